/**
 * Scenario 3b: scenario 3's workload on the server stores. 10k objects, 10
 * updates each in a random order, then one `commitAll()`: objects made durable
 * per second on PostgreSQL and on Redis, against the raw driver writing the
 * same values (pg: one set-based upsert in one transaction; ioredis: one
 * MULTI of HSETs). Both servers run on 127.0.0.1 from test/servers/.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { commitAll, configureOaas, runInSession } from '../../src/index.js';
import type { ScenarioReport } from '../support/report.js';
import { postgresSettings, redisSettings, withServers } from '../support/servers.js';
import { BenchCounter } from '../support/services.js';
import { fmt, prng, ratioText, ratios, shuffle, spread, summarize, table, yieldToLoop } from '../support/stats.js';

const OBJECTS = 10_000;
const UPDATES_PER_OBJECT = 10;
const RUNS = 5;
const YIELD_EVERY = 1000;

const ids = Array.from({ length: OBJECTS }, (_, i) => `obj-${String(i).padStart(5, '0')}`);

function updateOrder(run: number): number[] {
  const order: number[] = [];
  for (let u = 0; u < UPDATES_PER_OBJECT; u++) for (let i = 0; i < OBJECTS; i++) order.push(i);
  return shuffle(order, prng(1000 + run));
}

/** Commit times in ms, one per run, of the SDK on the store `spec`. */
async function sdkRuns(spec: string): Promise<number[]> {
  await configureOaas({ store: spec, autoCommit: false, logLevel: 'silent' });
  try {
    const objects = await runInSession(async () => {
      const created = ids.map((id) => BenchCounter.create({ name: id }, { id }));
      await commitAll();
      return created;
    });
    const commits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const order = updateOrder(run);
      commits.push(
        await runInSession(async () => {
          for (let k = 0; k < order.length; k++) {
            await objects[order[k]!]!.increment();
            if ((k + 1) % YIELD_EVERY === 0) await yieldToLoop();
          }
          const started = performance.now();
          const summary = await commitAll();
          const ms = performance.now() - started;
          if (summary.committed !== OBJECTS) throw new Error(`scenario 3b: the SDK committed ${summary.committed} objects`);
          return ms;
        }),
      );
    }
    if (objects.some((o) => o.count !== RUNS * UPDATES_PER_OBJECT)) throw new Error('scenario 3b: SDK objects out of step');
    return commits;
  } finally {
    // Closes the store's connections before the server goes away.
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
  }
}

/** The same rows in a plain table, written with one `INSERT ... SELECT FROM unnest ... ON CONFLICT` in one transaction. */
async function rawPostgresRuns(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CREATE TABLE counter (id text PRIMARY KEY, count bigint NOT NULL)');
    await client.query('INSERT INTO counter SELECT id, 0 FROM unnest($1::text[]) AS id', [ids]);
    const counts = ids.map(() => 0);
    const commits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const i of updateOrder(run)) counts[i]! += 1;
      const started = performance.now();
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO counter (id, count) SELECT * FROM unnest($1::text[], $2::bigint[])
         ON CONFLICT (id) DO UPDATE SET count = excluded.count`,
        [ids, counts],
      );
      await client.query('COMMIT');
      commits.push(performance.now() - started);
    }
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM counter WHERE count = $1', [RUNS * UPDATES_PER_OBJECT]);
    if (Number(rows[0]?.n) !== OBJECTS) throw new Error('scenario 3b: pg did not persist every update');
    return commits;
  } finally {
    await client.end();
  }
}

/** The same values as one hash per object, written with one MULTI of HSETs. */
async function rawRedisRuns(url: string): Promise<number[]> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    const counts = ids.map(() => 0);
    const write = async (): Promise<void> => {
      const multi = client.multi();
      ids.forEach((id, i) => multi.hset(`raw:${id}`, 'count', String(counts[i])));
      const replies = await multi.exec();
      if (replies === null || replies.some(([error]) => error !== null)) throw new Error('scenario 3b: MULTI failed');
    };
    await write();
    const commits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const i of updateOrder(run)) counts[i]! += 1;
      const started = performance.now();
      await write();
      commits.push(performance.now() - started);
    }
    if ((await client.hget(`raw:${ids[0]!}`, 'count')) !== String(RUNS * UPDATES_PER_OBJECT)) throw new Error('scenario 3b: ioredis did not persist every update');
    return commits;
  } finally {
    await client.quit();
  }
}

export async function manyObjectsServers(): Promise<ScenarioReport> {
  const title = 'Many objects on PostgreSQL and Redis';
  const result = await withServers(async ({ postgres, redis }) => {
    const sdkPg = await sdkRuns(await postgres.createDatabase());
    const rawPg = await rawPostgresRuns(await postgres.createDatabase());
    const pgSettings = await postgresSettings(postgres.url);
    const sdkRedis = await sdkRuns(redis.url);
    const rawRedis = await rawRedisRuns(redis.url);
    const rSettings = await redisSettings(redis.url);
    return { sdkPg, rawPg, pgSettings, sdkRedis, rawRedis, rSettings };
  });
  if ('skipped' in result) {
    return { id: '3b', title, setup: `Skipped: ${result.skipped}.`, tables: [], verdicts: [], notes: [] };
  }
  const durable = (ms: number): number => OBJECTS / (ms / 1000);
  const rows = (sdk: number[], raw: number[], sdkName: string, rawName: string): string[][] => [
    [sdkName, spread(summarize(sdk), ' ms'), spread(summarize(sdk.map(durable)), '/s'), ''],
    [rawName, spread(summarize(raw), ' ms'), spread(summarize(raw.map(durable)), '/s'), ratioText(ratios(sdk.map(durable), raw.map(durable)))],
  ];
  const vsPg = ratios(result.sdkPg.map(durable), result.rawPg.map(durable));
  const vsRedis = ratios(result.sdkRedis.map(durable), result.rawRedis.map(durable));
  return {
    id: '3b',
    title,
    setup:
      `Scenario 3's workload: ${OBJECTS.toLocaleString('en-US')} objects already stored and loaded, ${UPDATES_PER_OBJECT} updates each ` +
      `(\`await obj.increment()\`, ${(OBJECTS * UPDATES_PER_OBJECT).toLocaleString('en-US')} in a seeded random order), then one \`commitAll()\`; ` +
      `the raw drivers write the same values. Servers on 127.0.0.1 started by \`test/servers/\`. ${RUNS} runs each; median (min-max); only the commit is timed.`,
    tables: [
      table(
        ['contender', 'commit', 'objects durable per s', 'SDK / raw'],
        [
          ...rows(result.sdkPg, result.rawPg, 'SDK on PostgreSQL: `commitAll()`', 'pg: one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE` in a transaction'),
          ...rows(result.sdkRedis, result.rawRedis, 'SDK on Redis: `commitAll()`', 'ioredis: one MULTI of 10k `HSET`'),
        ],
      ),
    ],
    verdicts: [],
    notes: [
      `No target; SDK / raw: PostgreSQL ${fmt(vsPg.median)}x, Redis ${fmt(vsRedis.median)}x (per-run ratios of objects durable per second).`,
      `PostgreSQL settings: ${result.pgSettings}; the raw table is \`(id text primary key, count bigint)\`, the SDK uses its own tables (a versioned object row and one row per field).`,
      `Redis settings: ${result.rSettings}; the raw baseline writes one hash per object with one field, the SDK's store checks and bumps each object's version and its class index in one Lua script.`,
    ],
  };
}
