/**
 * Scenario 8: load latency, cached vs uncached. N objects already in
 * PostgreSQL are read one at a time with `store.get(key)`, as a fresh process
 * loading them would: through a `PostgresStore` alone, and through a
 * `CachedStore` with a `RedisCache` in front of it once the cache is warm.
 */
import { CachedStore } from '../../src/stores/cache/cached-store.js';
import { RedisCache } from '../../src/stores/cache/redis-cache.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import type { ObjectKey, Store, WriteOp } from '../../src/stores/store.js';
import type { ScenarioReport } from '../support/report.js';
import { postgresSettings, redisSettings, withServers } from '../support/servers.js';
import { fmt, table } from '../support/stats.js';
import { scaled } from '../support/size.js';

const OBJECTS = scaled(2000, 100);
const PASSES = scaled(3, 1);
const CHUNK = scaled(500, 50);

const encoder = new TextEncoder();
const keys: ObjectKey[] = Array.from({ length: OBJECTS }, (_, i) => ({ clsId: 'bench.Counter', partitionId: 0, objectId: `obj-${String(i).padStart(5, '0')}` }));

/** A quantile of sorted values (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

/** One untimed pass (connects, fills caches), then `PASSES` timed passes over every key; per-read times in µs. */
async function readTimes(store: Store): Promise<number[]> {
  for (const key of keys) if ((await store.get(key)) === undefined) throw new Error(`scenario 8: ${key.objectId} missing`);
  const times: number[] = [];
  for (let pass = 0; pass < PASSES; pass++) {
    for (const key of keys) {
      const started = performance.now();
      const object = await store.get(key);
      times.push((performance.now() - started) * 1000);
      if (object?.version !== 1) throw new Error(`scenario 8: ${key.objectId} read back wrong`);
    }
  }
  return times.sort((a, b) => a - b);
}

export async function cacheLatency(): Promise<ScenarioReport> {
  const title = 'Load latency, cached vs uncached';
  const result = await withServers(async ({ postgres, redis }) => {
    const url = await postgres.createDatabase();
    const writer = new PostgresStore({ url });
    try {
      for (let i = 0; i < OBJECTS; i += CHUNK) {
        const ops: WriteOp[] = keys.slice(i, i + CHUNK).map((key, j) => ({
          kind: 'put',
          key,
          expectedVersion: 0,
          set: new Map([
            ['count', encoder.encode(JSON.stringify(i + j))],
            ['name', encoder.encode(JSON.stringify(key.objectId))],
            ['updatedAt', encoder.encode(JSON.stringify(0))],
          ]),
        }));
        await writer.apply(ops);
      }
    } finally {
      await writer.close();
    }
    const plain = new PostgresStore({ url });
    let uncached: number[];
    try {
      uncached = await readTimes(plain);
    } finally {
      await plain.close();
    }
    // Counts the reads that get past the cache, to show the timed passes were all hits.
    const inner = new PostgresStore({ url });
    let misses = 0;
    const innerGet = inner.get.bind(inner);
    inner.get = (key) => {
      misses += 1;
      return innerGet(key);
    };
    const cachedStore = new CachedStore(inner, new RedisCache({ url: redis.url }));
    let cached: number[];
    try {
      cached = await readTimes(cachedStore);
      misses -= OBJECTS; // the untimed first pass fills the cache
    } finally {
      await cachedStore.close();
    }
    return { uncached, cached, misses, pgSettings: await postgresSettings(url), rSettings: await redisSettings(redis.url) };
  });
  if ('skipped' in result) return { id: '8', title, setup: `Skipped: ${result.skipped}.`, tables: [], verdicts: [], notes: [] };

  const row = (name: string, t: readonly number[]): string[] => [name, `${fmt(quantile(t, 0.5))} µs`, `${fmt(quantile(t, 0.99))} µs`, `${fmt(t.length)}`];
  const medianRatio = quantile(result.cached, 0.5) / quantile(result.uncached, 0.5);
  const p99Ratio = quantile(result.cached, 0.99) / quantile(result.uncached, 0.99);
  return {
    id: '8',
    title,
    setup:
      `${OBJECTS.toLocaleString('en-US')} objects (three fields each) already in PostgreSQL; \`store.get(key)\` one key at a time, awaited, ` +
      `through \`new PostgresStore({ url })\` and through \`new CachedStore(new PostgresStore({ url }), new RedisCache({ url }))\`. ` +
      `Each store first reads every key once untimed (connections opened; for the cached store, the cache filled), then ${PASSES} timed passes over all keys. ` +
      'Servers on 127.0.0.1 started by `test/servers/`.',
    tables: [
      table(
        ['read path', 'median per read', 'p99 per read', 'reads timed'],
        [row('PostgresStore', result.uncached), row('CachedStore(PostgresStore, RedisCache), cache warm', result.cached)],
      ),
      table(
        ['cached / uncached', 'median', 'p99'],
        [['ratio', `${fmt(medianRatio)}x`, `${fmt(p99Ratio)}x`]],
      ),
    ],
    verdicts: [],
    notes: [
      `PostgreSQL settings: ${result.pgSettings}; Redis settings: ${result.rSettings} (reads do not touch either).`,
      `Reads that missed the warm cache and went to PostgreSQL during the timed passes: ${result.misses}.`,
      'A cache hit is one `HGETALL` on Redis; a PostgresStore read is one query on a pooled connection. Both are one round trip on the loopback interface.',
    ],
  };
}
