import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { describeApplyNowContract, describeStoreContract } from './store-contract.js';

describeStoreContract('memory', () => Promise.resolve({ store: new MemoryStore() }));
describeApplyNowContract('memory', () => Promise.resolve({ store: new MemoryStore() }));

describe('MemoryStore', () => {
  it('works without open()', async () => {
    const store = new MemoryStore();
    const key = { clsId: 'cls', partitionId: 0, objectId: 'a' };
    expect(await store.apply([{ kind: 'put', key }])).toEqual([1]);
    expect((await store.get(key))?.version).toBe(1);
    await store.close();
  });

  it('refuses an op that both sets and removes one entry', async () => {
    const store = new MemoryStore();
    const key = { clsId: 'cls', partitionId: 0, objectId: 'a' };
    await expect(
      store.apply([{ kind: 'put', key, set: new Map([['x', new Uint8Array([1])]]), remove: ['x'] }]),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.get(key)).toBeUndefined();
    await store.close();
  });
});
