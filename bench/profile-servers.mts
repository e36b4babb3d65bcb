/**
 * Scenario 3b's commit on PostgreSQL or Redis, instrumented: the time of each
 * statement the store sends, of the store's `apply` and of the whole
 * `commitAll()`; a CPU profile of each commit (inspector, 100 µs sampling,
 * one file per round in `PROFILE_DIR`, /tmp/prof-commit by default); on the
 * server side the WAL bytes per commit, the HOT updates and the table's size,
 * and EXPLAIN (ANALYZE, BUFFERS, WAL) of the SDK's update next to the raw
 * upsert of scenario 3b (PostgreSQL), or the script's time from SLOWLOG
 * (Redis). `FILLFACTOR=n` rewrites the objects table with that fillfactor
 * first.
 *
 *     node --import tsx bench/profile-servers.mts postgres|redis [rounds]
 *
 * docs/benchmarks.md (scenario 3b) shows what it found.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { commitAll, configureOaas, runInSession } from '../src/index.js';
import { PostgresStore } from '../src/stores/postgres/postgres-store.js';
import { RedisStore } from '../src/stores/redis/redis-store.js';
import { int8Array } from '../src/stores/postgres/binary-arrays.js';
import type { Store } from '../src/stores/store.js';
import { withServers } from './support/servers.js';
import { BenchCounter } from './support/services.js';
import { prng, shuffle } from './support/stats.js';

const which = process.argv[2] ?? 'postgres';
const rounds = Number(process.argv[3] ?? 8);
const OBJECTS = 10_000;
const ids = Array.from({ length: OBJECTS }, (_, i) => `obj-${String(i).padStart(5, '0')}`);

/** The last SDK update statement sent, for EXPLAIN. */
let captured: { text: string; values: unknown[] } | undefined;
// Statement timings: every query the pg clients send, keyed by its first words.
const timings = new Map<string, number[]>();
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]): unknown {
  const text = typeof args[0] === 'string' ? args[0] : '';
  const started = performance.now();
  const result = original.apply(this, args);
  if (text.startsWith('WITH u AS') && text.includes('UPDATE oaas_objects')) captured = { text, values: args[1] as unknown[] };
  if (result instanceof Promise) {
    const head = text.replace(/\s+/g, ' ').slice(0, 60);
    void result.then(() => {
      const list = timings.get(head) ?? [];
      list.push(performance.now() - started);
      timings.set(head, list);
    }, () => undefined);
  }
  return result;
} as typeof pg.Client.prototype.query;

// Only the commits are profiled (with the inspector), one file per round.
const PROFILE_DIR = process.env.PROFILE_DIR ?? '/tmp/prof-commit';
const profiler = new Session();
profiler.connect();
await profiler.post('Profiler.enable');
await profiler.post('Profiler.setSamplingInterval', { interval: 100 });

const applyTimes: number[] = [];
function timed(store: Store): Store {
  const apply = store.apply.bind(store);
  store.apply = async (ops, options) => {
    const started = performance.now();
    try {
      return await apply(ops, options);
    } finally {
      applyTimes.push(performance.now() - started);
    }
  };
  return store;
}

async function lsn(client: pg.Client): Promise<string> {
  return (await client.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0]!.l;
}

await withServers(async ({ postgres, redis }) => {
  const url = which === 'postgres' ? await postgres.createDatabase() : redis.url;
  const store = timed(which === 'postgres' ? new PostgresStore({ url }) : new RedisStore({ url }));
  await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
  const admin = which === 'postgres' ? new pg.Client({ connectionString: url }) : undefined;
  await admin?.connect();
  const redisAdmin = which === 'redis' ? new Redis(redis.url) : undefined;
  const objects = await runInSession(async () => {
    const created = ids.map((id) => BenchCounter.create({ name: id }, { id }));
    await commitAll();
    return created;
  });
  if (admin !== undefined && process.env.FILLFACTOR !== undefined) {
    await admin.query(`ALTER TABLE oaas_objects SET (fillfactor = ${process.env.FILLFACTOR})`);
    await admin.query('VACUUM FULL oaas_objects');
  }
  timings.clear();
  applyTimes.length = 0;
  const commits: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order: number[] = [];
    for (let u = 0; u < 10; u++) for (let i = 0; i < OBJECTS; i++) order.push(i);
    shuffle(order, prng(1000 + round));
    const before = admin === undefined ? undefined : await lsn(admin);
    await redisAdmin?.slowlog('RESET');
    await redisAdmin?.config('SET', 'slowlog-log-slower-than', '0');
    const ms = await runInSession(async () => {
      for (const i of order) await objects[i]!.increment();
      await profiler.post('Profiler.start');
      const started = performance.now();
      await commitAll();
      const ms = performance.now() - started;
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(`${PROFILE_DIR}/commit-${which}-${round}.cpuprofile`, JSON.stringify(profile));
      return ms;
    });
    commits.push(ms);
    if (admin !== undefined && before !== undefined) {
      const wal = (await admin.query<{ b: string }>('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b', [before])).rows[0]!.b;
      process.stdout.write(`round ${round}: commit ${ms.toFixed(1)} ms, apply ${applyTimes.at(-1)!.toFixed(1)} ms, WAL ${(Number(wal) / 1024).toFixed(0)} KiB\n`);
    }
    if (redisAdmin !== undefined) {
      const log = (await redisAdmin.slowlog('GET', 20)) as [number, number, number, string[]][];
      const script = log.filter((e) => /^EVAL/i.test(e[3][0] ?? '')).map((e) => `${e[3][0]} ${(e[2] / 1000).toFixed(1)} ms`);
      process.stdout.write(`round ${round}: commit ${ms.toFixed(1)} ms, apply ${applyTimes.at(-1)!.toFixed(1)} ms, server: ${script.join(', ')}\n`);
    }
  }
  if (admin !== undefined) {
    const stats = await admin.query('SELECT relname, n_tup_upd, n_tup_hot_upd, n_live_tup, n_dead_tup FROM pg_stat_user_tables');
    process.stdout.write(`${JSON.stringify(stats.rows)}\n`);
    const size = await admin.query("SELECT pg_size_pretty(pg_table_size('oaas_objects')) AS t, pg_size_pretty(pg_indexes_size('oaas_objects')) AS i, avg(pg_column_size(o.*)) AS row FROM oaas_objects o");
    process.stdout.write(`${JSON.stringify(size.rows)}\n`);
  }
  if (admin !== undefined && captured !== undefined) await explain(admin, captured);
  for (const [head, list] of timings) {
    const sorted = [...list].sort((a, b) => a - b);
    process.stdout.write(`${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms median of ${list.length}: ${head}\n`);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(`commitAll median ${median(commits).toFixed(1)} ms; apply median ${median(applyTimes).toFixed(1)} ms\n`);
  await admin?.end();
  redisAdmin?.disconnect();
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
});

/** EXPLAIN (ANALYZE, BUFFERS, WAL) of the SDK's last update (at the current versions) and of the raw upsert, each in a transaction rolled back. */
async function explain(client: pg.Client, sdk: { text: string; values: unknown[] }): Promise<void> {
  const version = (await client.query<{ v: string }>('SELECT max(version) AS v FROM oaas_objects')).rows[0]!.v;
  // SQL.updateStatesIn: $4 is the expected versions.
  const values = [...sdk.values];
  values[3] = int8Array(ids.map(() => Number(version)));
  await client.query('CREATE TABLE IF NOT EXISTS counter (id text PRIMARY KEY, count bigint NOT NULL)');
  await client.query('INSERT INTO counter SELECT id, 0 FROM unnest($1::text[]) AS id ON CONFLICT DO NOTHING', [ids]);
  const raw = `INSERT INTO counter (id, count) SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (id) DO UPDATE SET count = excluded.count`;
  for (let i = 0; i < 2; i++) {
    for (const [name, text, params] of [['sdk', sdk.text, values], ['raw', raw, [ids, ids.map(() => 7 + i)]]] as const) {
      await client.query('BEGIN');
      const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, WAL) ${text}`, params as unknown[]);
      await client.query('ROLLBACK');
      process.stdout.write(`--- ${name}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n`);
    }
  }
}
