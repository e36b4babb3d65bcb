/** What a store migrated from layout 1 must hold: the fixture's objects, read back through the store contract. */
import { expect } from 'vitest';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import type { ObjectKey, Store, StoredObject } from '../../src/stores/store.js';
import { applyFixture } from '../fixtures/layout-1/write-fixture.js';

export const PARTITIONS: [string, number][] = [
  ['fixture.Account', 0],
  ['fixture.Account', 3],
  ['fixture.Empty', 0],
  ['fixture.Raw', 1],
  ...[0, 1, 2, 3].map((p): [string, number] => ['fixture.Counter', p]),
];

/** Every object of the fixture's classes and partitions, by listing them page by page. */
export async function everything(store: Store): Promise<Map<string, StoredObject>> {
  const all = new Map<string, StoredObject>();
  for (const [clsId, partitionId] of PARTITIONS) {
    let cursor: string | undefined;
    do {
      const page = await store.list(clsId, partitionId, { limit: 1000, cursor });
      const keys: ObjectKey[] = page.objects.map((o) => ({ clsId, partitionId, objectId: o.objectId }));
      const objects = await store.getMany(keys);
      objects.forEach((object, i) => {
        expect(object?.entries.size).toBe(page.objects[i]!.entryCount);
        all.set(`${clsId}/${partitionId}/${keys[i]!.objectId}`, object!);
      });
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return all;
}

/** Entries as hex, so byte-exact comparison reads well in a diff. */
export function comparable(objects: Map<string, StoredObject>): Record<string, { version: number; entries: Record<string, string> }> {
  return Object.fromEntries(
    [...objects].map(([id, o]) => [id, { version: o.version, entries: Object.fromEntries([...o.entries].map(([k, v]) => [k, Buffer.from(v).toString('hex')])) }]),
  );
}

export async function expected(): Promise<ReturnType<typeof comparable>> {
  const memory = new MemoryStore();
  await applyFixture(memory);
  return comparable(await everything(memory));
}

