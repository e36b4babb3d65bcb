import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { CachedStore } from '../../src/stores/cache/cached-store.js';
import { RedisCache } from '../../src/stores/cache/redis-cache.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { OdgmStore } from '../../src/stores/odgm/odgm-store.js';
import { rejection } from '../support/promises.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { describeStoreContract } from './store-contract.js';

describe('a cached store', () => {
  it('has due() exactly when the store behind it has', () => {
    const cache = (): RedisCache => new RedisCache({ url: 'redis://127.0.0.1:1' });
    expect(new CachedStore(new MemoryStore(), cache()).due).toBeTypeOf('function');
    expect(new CachedStore(new OdgmStore({ address: '127.0.0.1:1' }), cache()).due).toBeUndefined();
  });
});

const reason = await unavailable('redis');
if (reason !== undefined) console.log(`cached store suites skipped: ${reason}`);

describe.skipIf(reason !== undefined)('a memory store behind a Redis cache', () => {
  let server: TestServer;
  let url: string;
  let prefixes = 0;
  /** An empty cache: its own key prefix on the shared server. */
  const freshCache = (): RedisCache => new RedisCache({ url, keyPrefix: `contract-${process.pid}-${(prefixes += 1)}` });

  beforeAll(async () => {
    server = (await startServer('redis'))!;
    url = await server.freshStore();
  }, 60_000);

  afterAll(async () => {
    await server?.destroy();
  });

  describeStoreContract('memory+cache', () => Promise.resolve({ store: new CachedStore(new MemoryStore(), freshCache()) }));

  it('answers nothing from the cache once closed, though the object is cached', async () => {
    const store = new CachedStore(new MemoryStore(), freshCache());
    await store.open();
    const key = { clsId: 'cls', partitionId: 0, objectId: 'cached' };
    await store.apply([{ kind: 'put', key, set: new Map([['a', new TextEncoder().encode('1')]]) }]);
    expect((await store.get(key))?.version).toBe(1); // read from the store, and now in the cache
    await store.close();
    for (const call of [() => store.get(key), () => store.getMany([key])]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(false);
    }
  });
});
