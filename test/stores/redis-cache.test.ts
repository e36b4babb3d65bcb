import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, commitAll, getAutoSessionManager, type ObjectKey, type Store, type StoredObject } from '../../src/index.js';
import { CachedStore } from '../../src/stores/cache/cached-store.js';
import { RedisCache } from '../../src/stores/cache/redis-cache.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const reason = await unavailable('redis');
if (reason !== undefined) console.log(`redis cache suites skipped: ${reason}`);
const postgresReason = await unavailable('postgres');
if (reason === undefined && postgresReason !== undefined) console.log(`redis cache over postgres skipped: ${postgresReason}`);

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

/** The store behind the cache: one in memory, and PostgreSQL (the pairing the docs recommend). */
interface Backend {
  /** A new, empty store. */
  store(): Promise<Store>;
  /** A store spec for `configureOaas` with nothing in it yet, and the name the runtime then reports. */
  spec(): Promise<{ store: string; name: string }>;
}

const backends: [string, boolean, () => Promise<Backend & { destroy(): Promise<void> }>][] = [
  [
    'a memory store (sqlite for the runtime)',
    true,
    () =>
      Promise.resolve({
        store: () => Promise.resolve(new MemoryStore()),
        spec: () => Promise.resolve({ store: tempSqlite(), name: 'sqlite+cache' }),
        destroy: () => Promise.resolve(),
      }),
  ],
  [
    'PostgreSQL',
    postgresReason === undefined,
    async () => {
      const server = (await startServer('postgres'))!;
      return {
        store: async () => new PostgresStore({ url: await server.freshStore() }),
        spec: async () => ({ store: await server.freshStore(), name: 'postgres+cache' }),
        destroy: () => server.destroy(),
      };
    },
  ],
];

describe.skipIf(reason !== undefined).each(backends)('a Redis cache in front of %s', (_name, available, start) => {
  let server: TestServer;
  let url: string;
  let backend: Backend & { destroy(): Promise<void> };
  const caches: RedisCache[] = [];
  const opened: Store[] = [];
  const cache = (): RedisCache => {
    const c = new RedisCache({ url, keyPrefix: 'test' });
    caches.push(c);
    return c;
  };
  const backing = async (): Promise<Store> => {
    const store = await backend.store();
    opened.push(store);
    return store;
  };
  beforeAll(async () => {
    server = (await startServer('redis'))!;
    url = await server.freshStore();
    if (available) backend = await start();
  }, 60_000);
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });
  afterAll(async () => {
    for (const c of caches) await c.close();
    await server?.destroy();
    await backend?.destroy();
  });

  it.skipIf(!available)('serves loads from the cache after the first read, and updates it on commit', async () => {
    const primary = new CountingStore(await backing());
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

  it.skipIf(!available)('never serves an older version over a newer one, whatever order updates arrive in', async () => {
    const shared = await backing();
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

  it.skipIf(!available)('keeps working on the store when the cache is down, and reads nothing stale once it is back', async () => {
    const shared = await backing();
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

  it.skipIf(!available)('is used by the runtime when configured with cache: redis://', async () => {
    const { store, name } = await backend.spec();
    await freshRuntime({ store, cache: url });
    expect((await getAutoSessionManager().healthCheck()).store.name).toBe(name);
    Counter.create({ count: 3 }, { id: 'cached-counter' });
    await commitAll();
    await freshRuntime({ store, cache: url });
    expect((await Counter.load('cached-counter')).count).toBe(3);
  });
});
