/**
 * Stores without a slot table refuse a fence: ignoring it would let a
 * process that lost its objects write them anyway.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import type { Store } from '../../src/stores/store.js';
import { slotOf } from '../../src/cluster/slots.js';
import { rejection } from '../support/promises.js';

const key = { clsId: 'cls', partitionId: 0, objectId: 'o1' };
const fence = { memberId: 'a', slots: [{ slot: slotOf(key), epoch: 1 }] };

describe('stores without a slot table', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it.each(['memory', 'sqlite'])('%s refuses a fenced batch, writing nothing, and still takes unfenced ones', async (kind) => {
    let store: Store;
    if (kind === 'memory') {
      store = new MemoryStore();
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'oaas-fence-'));
      dirs.push(dir);
      store = new SqliteStore({ path: join(dir, 'state.db') });
    }
    stores.push(store);
    await store.open();
    const error = await rejection(store.apply([{ kind: 'put', key, set: new Map([['v', new Uint8Array([1])]]) }], { fence }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('options.fence');
    expect((error as Error).message).toMatch(new RegExp(`the ${kind} store cannot check a fence: cluster mode needs a store shared by its processes`));
    expect(await store.get(key)).toBeUndefined();
    expect(await store.apply([{ kind: 'put', key }])).toEqual([1]);
  });
});
