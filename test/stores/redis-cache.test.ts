import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, commitAll, getAutoSessionManager, type ObjectKey, type Store, type StoredObject } from '../../src/index.js';
import { CachedStore } from '../../src/stores/cache/cached-store.js';
import { RedisCache } from '../../src/stores/cache/redis-cache.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const reason = await unavailable('redis');
if (reason !== undefined) console.log(`redis cache suites skipped: ${reason}`);

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (object: StoredObject | undefined, key: string) => (object === undefined ? undefined : new TextDecoder().decode(object.entries.get(key)));
let objects = 0;
const freshKey = (): ObjectKey => ({ clsId: 'cache.Test', partitionId: 0, objectId: `o-${objects++}` });

/** Counts the reads that reach the store behind the cache. */
class CountingStore extends RecordingStore {
  reads = 0;
  override get(key: ObjectKey): Promise<StoredObject | undefined> {
    this.reads += 1;
    return super.get(key);
  }
}

describe.skipIf(reason !== undefined)('a Redis cache in front of a store', () => {
  let server: TestServer;
  let url: string;
  const caches: RedisCache[] = [];
  const cache = (): RedisCache => {
    const c = new RedisCache({ url, keyPrefix: 'test' });
    caches.push(c);
    return c;
  };
  beforeAll(async () => {
    server = (await startServer('redis'))!;
    url = await server.freshStore();
  }, 30_000);
  afterAll(async () => {
    for (const c of caches) await c.close();
    await server.destroy();
  });

  it('serves loads from the cache after the first read, and updates it on commit', async () => {
    const primary = new CountingStore(new MemoryStore());
    const store = new CachedStore(primary, cache());
    const key = freshKey();
    await store.apply([{ kind: 'put', key, expectedVersion: 0, set: new Map([['a', bytes('1')]]) }]);
    expect(text(await store.get(key), 'a')).toBe('1');
    const readsAfterFirst = primary.reads;
    expect(text(await store.get(key), 'a')).toBe('1');
    expect(primary.reads).toBe(readsAfterFirst);
    await store.apply([{ kind: 'put', key, expectedVersion: 1, set: new Map([['a', bytes('2')]]) }]);
    const after = await store.get(key);
    expect([after?.version, text(after, 'a')]).toEqual([2, '2']);
    expect(primary.reads).toBe(readsAfterFirst);
  });

  it('never serves an older version over a newer one, whatever order updates arrive in', async () => {
    const shared: Store = new MemoryStore();
    const a = new CachedStore(shared, cache());
    const c = cache();
    const key = freshKey();
    await a.apply([{ kind: 'put', key, expectedVersion: 0, set: new Map([['a', bytes('v1')]]) }]);
    const v1 = (await shared.get(key))!;
    await a.apply([{ kind: 'put', key, expectedVersion: 1, set: new Map([['a', bytes('v2')]]) }]);
    // A reader that read v1 before the commit fills the cache late; an update for v1 arrives late too.
    await c.fill(v1);
    await c.committed(key, 0, 1, new Map([['a', bytes('v1')]]), undefined);
    const served = await a.get(key);
    expect([served?.version, text(served, 'a')]).toEqual([2, 'v2']);
    // A deletion is newer than every version before it.
    await a.apply([{ kind: 'delete', key, expectedVersion: 2 }]);
    await c.fill((await shared.get(key)) ?? v1);
    expect(await a.get(key)).toBeUndefined();
  });

  it('keeps working on the store when the cache is down, and reads nothing stale once it is back', async () => {
    const shared = new MemoryStore();
    const store = new CachedStore(shared, cache());
    const key = freshKey();
    await store.apply([{ kind: 'put', key, expectedVersion: 0, set: new Map([['a', bytes('old')]]) }]);
    expect(text(await store.get(key), 'a')).toBe('old'); // now cached
    await server.stop();
    try {
      await store.apply([{ kind: 'put', key, expectedVersion: 1, set: new Map([['a', bytes('new')]]) }]);
      expect(text(await store.get(key), 'a')).toBe('new');
    } finally {
      await server.start();
    }
    // The cache kept its old entry across the restart; this process must not serve it.
    expect(text(await store.get(key), 'a')).toBe('new');
    expect(text(await store.get(key), 'a')).toBe('new');
  });

  it('is used by the runtime when configured with cache: redis://', async () => {
    const store = tempSqlite();
    await freshRuntime({ store, cache: url });
    expect((await getAutoSessionManager().healthCheck()).store.name).toBe('sqlite+cache');
    Counter.create({ count: 3 }, { id: 'cached-counter' });
    await commitAll();
    await freshRuntime({ store, cache: url });
    expect((await Counter.load('cached-counter')).count).toBe(3);
  });
});
