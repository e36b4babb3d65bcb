/**
 * Scenario 3b: scenario 3's workload on the server stores. 10k objects, 10
 * updates each in a random order, then one `commitAll()`: objects made durable
 * per second on PostgreSQL and on Redis, against the raw driver writing the
 * same values (pg: one set-based upsert in one transaction; ioredis: one
 * MULTI of HSETs) and, on PostgreSQL, MikroORM's `em.flush()` of the same
 * updates. Both servers run on 127.0.0.1 from test/servers/.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { commitAll, configureOaas, runInSession } from '../../src/index.js';
import { MoCounter } from '../support/mikro-orm.js';
import { openMikroOrmPostgres } from '../support/mikro-orm-postgres.js';
import type { ScenarioReport } from '../support/report.js';
import { postgresSettings, redisSettings, withServers } from '../support/servers.js';
import { BenchCounter } from '../support/services.js';
import { prng, ratioText, ratios, shuffle, spread, summarize, table, yieldToLoop } from '../support/stats.js';
import { scaled } from '../support/size.js';

const OBJECTS = scaled(10_000, 200);
const UPDATES_PER_OBJECT = 10;
const RUNS = scaled(5, 1);
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

/** MikroORM 6 on its own table: the same updates through `increment()` on loaded entities, then one timed `em.flush()`. */
async function mikroPostgresRuns(url: string): Promise<number[]> {
  const orm = await openMikroOrmPostgres(url);
  try {
    const em = orm.em.fork();
    for (const id of ids) em.create(MoCounter, { id, count: 0, name: id, updatedAt: 0 });
    await em.flush();
    em.clear();
    const loaded = await em.find(MoCounter, {}, { orderBy: { id: 'asc' } });
    const commits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const order = updateOrder(run);
      for (let k = 0; k < order.length; k++) {
        await loaded[order[k]!]!.increment();
        if ((k + 1) % YIELD_EVERY === 0) await yieldToLoop();
      }
      const started = performance.now();
      await em.flush();
      commits.push(performance.now() - started);
    }
    const rows = await orm.em.fork().execute<{ n: string }[]>('select count(*) as n from mo_counter where count = ?', [RUNS * UPDATES_PER_OBJECT]);
    if (Number(rows[0]?.n) !== OBJECTS) throw new Error('scenario 3b: MikroORM did not persist every update');
    return commits;
  } finally {
    await orm.close();
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
    const mikroPg = await mikroPostgresRuns(await postgres.createDatabase());
    const rawPg = await rawPostgresRuns(await postgres.createDatabase());
    const pgSettings = await postgresSettings(postgres.url);
    const sdkRedis = await sdkRuns(redis.url);
    const rawRedis = await rawRedisRuns(redis.url);
    const rSettings = await redisSettings(redis.url);
    return { sdkPg, mikroPg, rawPg, pgSettings, sdkRedis, rawRedis, rSettings };
  });
  if ('skipped' in result) {
    return { id: '3b', title, setup: `Skipped: ${result.skipped}.`, tables: [], verdicts: [], notes: [] };
  }
  const durable = (ms: number): number => OBJECTS / (ms / 1000);
  const row = (name: string, times: number[], sdk?: number[]): string[] => [
    name,
    spread(summarize(times), ' ms'),
    spread(summarize(times.map(durable)), '/s'),
    sdk === undefined ? '' : ratioText(ratios(sdk.map(durable), times.map(durable))),
  ];
  const vsMikroPg = ratios(result.sdkPg.map(durable), result.mikroPg.map(durable));
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
        ['contender', 'commit', 'objects durable per s', 'SDK / this'],
        [
          row('SDK on PostgreSQL: `commitAll()`', result.sdkPg),
          row('MikroORM 6 on PostgreSQL: `em.flush()`', result.mikroPg, result.sdkPg),
          row('pg: one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO UPDATE` in a transaction', result.rawPg, result.sdkPg),
          row('SDK on Redis: `commitAll()`', result.sdkRedis),
          row('ioredis: one MULTI of 10k `HSET`', result.rawRedis, result.sdkRedis),
        ],
      ),
    ],
    verdicts: [
      {
        target: 'commit throughput at least 2x MikroORM (PostgreSQL)',
        measured: ratioText(vsMikroPg),
        pass: vsMikroPg.median >= 2,
      },
      {
        target: 'commit throughput at least 0.5x one raw set-based upsert (PostgreSQL)',
        measured: ratioText(vsPg),
        pass: vsPg.median >= 0.5,
      },
      {
        target: 'commit throughput at least 0.7x one raw MULTI of the same writes (Redis)',
        measured: ratioText(vsRedis),
        pass: vsRedis.median >= 0.7,
      },
    ],
    notes: [
      `PostgreSQL settings: ${result.pgSettings}; the raw table is \`(id text primary key, count bigint)\`, the SDK uses its own table (layout 2: one row per object with its version and a state document of its fields, written by one version-checked \`UPDATE ... FROM unnest(...)\`); MikroORM 6 writes its own \`mo_counter\` table (the EntitySchema of scenario 3: id, count, name, updated_at) with its batched \`UPDATE ... CASE\` statements in one transaction, in a fresh database of the same server.`,
      `Redis settings: ${result.rSettings}; the raw baseline writes one hash per object with one field, the SDK's store checks each object's version and writes it with the changed fields in one Lua script (two calls per object; new objects also join their class index).`,
    ],
  };
}
