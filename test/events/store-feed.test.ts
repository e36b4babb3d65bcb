import { expect, it } from 'vitest';
import { ConflictError, type Store, type StoreChange } from '../../src/index.js';
import { createStore, parseStoreSpec } from '../../src/stores/resolve-store.js';
import { tick } from '../support/runtime.js';
import { describeOnSharedStores } from '../support/servers.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function until(changes: readonly unknown[], count: number): Promise<void> {
  for (let i = 0; i < 3000 && changes.length < count; i++) await tick();
}

await describeOnSharedStores(
  (kind) => `the ${kind} store publishes what it applies`,
  (server) => {
    it('tells other store instances of every applied batch, a large one whole, never of its own or of a refused one', { timeout: 60_000 }, async () => {
      const url = await server.freshStore();
      const stores: Store[] = [];
      try {
        const writer = await createStore(parseStoreSpec(url));
        const reader = await createStore(parseStoreSpec(url));
        stores.push(writer, reader);
        const heard: StoreChange[] = [];
        const ownHeard: StoreChange[] = [];
        const stopReader = await reader.subscribe!((changes) => heard.push(...changes));
        const stopWriter = await writer.subscribe!((changes) => ownHeard.push(...changes));
        // Long ids and field names: more than one PostgreSQL notification's worth.
        const ids = Array.from({ length: 400 }, (_, i) => `object-with-a-rather-long-id-${'x'.repeat(40)}-${i}`);
        await writer.apply(ids.map((objectId) => ({ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId }, expectedVersion: 0, set: new Map([['field', bytes('1')]]) })));
        await writer.apply([{ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId: ids[0]! }, expectedVersion: 1, set: new Map([['other', bytes('2')]]), remove: ['field'] }]);
        await expect(writer.apply([{ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId: ids[1]! }, expectedVersion: 7, set: new Map([['field', bytes('3')]]) }])).rejects.toThrow(ConflictError);
        await writer.apply([{ kind: 'delete', key: { clsId: 'feed.Item', partitionId: 3, objectId: ids[2]! } }]);
        await writer.apply([{ kind: 'delete', key: { clsId: 'feed.Item', partitionId: 3, objectId: 'never-there' } }]);
        // An id holding the quote the PostgreSQL store wraps payloads in.
        await writer.apply([{ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId: 'q-$oaas_events$-é' }, set: new Map([['field', bytes('6')]]) }]);
        await reader.apply([{ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId: 'by-reader' }, set: new Map([['field', bytes('4')]]) }]);
        await until(heard, ids.length + 3);
        await until(ownHeard, 1);
        for (let i = 0; i < 50; i++) await tick();
        expect(heard).toEqual([
          ...ids.map((objectId) => ({ key: { clsId: 'feed.Item', partitionId: 3, objectId }, version: 1, kind: 'create', changed: ['field'] })),
          { key: { clsId: 'feed.Item', partitionId: 3, objectId: ids[0] }, version: 2, kind: 'update', changed: ['other', 'field'] },
          { key: { clsId: 'feed.Item', partitionId: 3, objectId: ids[2] }, version: 2, kind: 'delete', changed: [] },
          { key: { clsId: 'feed.Item', partitionId: 3, objectId: 'q-$oaas_events$-é' }, version: 1, kind: 'create', changed: ['field'] },
        ]);
        expect(ownHeard).toEqual([{ key: { clsId: 'feed.Item', partitionId: 3, objectId: 'by-reader' }, version: 1, kind: 'create', changed: ['field'] }]);
        await stopReader();
        await writer.apply([{ kind: 'put', key: { clsId: 'feed.Item', partitionId: 3, objectId: 'after' }, set: new Map([['field', bytes('5')]]) }]);
        for (let i = 0; i < 200; i++) await tick();
        expect(heard).toHaveLength(ids.length + 3);
        await stopWriter();
      } finally {
        for (const store of stores) await store.close();
      }
    });
  },
);
