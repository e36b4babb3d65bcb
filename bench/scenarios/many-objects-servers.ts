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
import { encodeHead } from '../../src/stores/change-feed.js';
import { int4Array, int8Array, textArray } from '../../src/stores/postgres/binary-arrays.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { SQL } from '../../src/stores/postgres/schema.js';
import { putsArguments, putsScript } from '../../src/stores/redis/puts-script.js';
import { KeyLayout, VERSION_FIELD } from '../../src/stores/redis/scripts.js';
import type { TrustedPut } from '../../src/stores/store.js';
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

/** The SDK's class and partition, as the SDK's own rows and keys name them. */
const CLS = 'bench.Counter';
const PARTITION = 0;
const stateOf = (id: string, count: number): string => `{"count":${count},"name":${JSON.stringify(id)},"updatedAt":0}`;

/**
 * The floor of the SDK's layout on PostgreSQL: the driver alone running the
 * SDK's own statement (`SQL.updateStatesInKeepingWakes`, its arrays in
 * binary as the store sends them) on the SDK's table, created by the store,
 * in one transaction; the arrays are built before the clock starts. The SDK's
 * commit also notifies its change events in that transaction.
 */
async function rawSdkTablePostgresRuns(url: string): Promise<number[]> {
  const store = new PostgresStore({ url });
  await store.open();
  await store.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO oaas_objects (cls_id, partition_id, object_id, version, state, entry_count)
      SELECT $1, $2, id, 1, '{"count":0,"name":' || to_json(id)::text || ',"updatedAt":0}', 3 FROM unnest($3::text[]) AS id`, [CLS, PARTITION, ids]);
    const counts = ids.map(() => 0);
    const commits: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      for (const i of updateOrder(run)) counts[i]! += 1;
      const values = [CLS, PARTITION, textArray(ids), int8Array(ids.map(() => run + 1)), textArray(ids.map((id, i) => stateOf(id, counts[i]!))), int4Array(ids.map(() => 3))];
      const started = performance.now();
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      const { rowCount } = await client.query(SQL.updateStatesInKeepingWakes, values);
      await client.query('COMMIT');
      commits.push(performance.now() - started);
      if (rowCount !== OBJECTS) throw new Error('scenario 3b: the SDK\'s statement missed rows');
    }
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

/**
 * The floors of the SDK's layout on Redis, on its own keys (a prefix of
 * their own): one MULTI of one `HSET` per object writing the version and
 * the field, as the SDK's script does without checking the version first;
 * and the SDK's own script for its usual batch, with its arguments (and the
 * change event it publishes) built before the clock starts.
 */
async function rawSdkLayoutRedisRuns(url: string): Promise<{ hsets: number[]; script: number[] }> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    const hashes = new KeyLayout('floor-hset');
    const keys = ids.map((id) => hashes.object({ clsId: CLS, partitionId: PARTITION, objectId: id }));
    const counts = ids.map(() => 0);
    const hsets: number[] = [];
    const script: number[] = [];
    const layout = new KeyLayout('floor-script');
    const batch = (expected: number): { keys: string[]; args: string[] } => {
      const ops = ids.map((id, i): TrustedPut => ({ kind: 'put', key: { clsId: CLS, partitionId: PARTITION, objectId: id }, expectedVersion: expected, hint: undefined, appendSetTexts: (into) => (into.push('count', String(counts[i])), 1), changed: ['count'] }));
      const built = putsArguments(layout, ops, { channel: layout.events(0), head: encodeHead('floor', ops) });
      if (built === undefined) throw new Error('scenario 3b: not the SDK\'s usual batch');
      return built;
    };
    const first = batch(0);
    await putsScript.run(client, first.keys, first.args);
    for (let run = 0; run <= RUNS; run++) {
      if (run > 0) for (const i of updateOrder(run - 1)) counts[i]! += 1;
      const multi = client.multi();
      keys.forEach((key, i) => multi.hset(key, VERSION_FIELD, String(run + 1), 'count', String(counts[i])));
      let started = performance.now();
      const replies = await multi.exec();
      if (run > 0) hsets.push(performance.now() - started);
      if (replies === null || replies.some(([error]) => error !== null)) throw new Error('scenario 3b: MULTI failed');
      if (run === 0) continue;
      const { keys: scriptKeys, args } = batch(run);
      started = performance.now();
      const reply = await putsScript.run(client, scriptKeys, args);
      script.push(performance.now() - started);
      if (!Array.isArray(reply) || reply[0] !== 0) throw new Error('scenario 3b: the SDK\'s script refused the batch');
    }
    return { hsets, script };
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
    const floorPg = await rawSdkTablePostgresRuns(await postgres.createDatabase());
    const pgSettings = await postgresSettings(postgres.url);
    const sdkRedis = await sdkRuns(redis.url);
    const rawRedis = await rawRedisRuns(redis.url);
    const floorRedis = await rawSdkLayoutRedisRuns(redis.url);
    const rSettings = await redisSettings(redis.url);
    return { sdkPg, mikroPg, rawPg, floorPg, pgSettings, sdkRedis, rawRedis, floorRedis, rSettings };
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
          row('pg: the SDK\'s `UPDATE` on the SDK\'s table, in a transaction', result.floorPg, result.sdkPg),
          row('SDK on Redis: `commitAll()`', result.sdkRedis),
          row('ioredis: one MULTI of 10k `HSET`', result.rawRedis, result.sdkRedis),
          row('ioredis: one MULTI of 10k `HSET` on the SDK\'s keys (version and field)', result.floorRedis.hsets, result.sdkRedis),
          row('ioredis: the SDK\'s script, its arguments built beforehand', result.floorRedis.script, result.sdkRedis),
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
      `PostgreSQL settings: ${result.pgSettings}; the raw table is \`(id text primary key, count bigint)\`, the SDK uses its own table (layout 2: one row per object with its version and a state document of its fields, fillfactor 50, written by one version-checked \`UPDATE ... FROM unnest(...)\` whose arrays go in binary, with the batch's change-event notifications in the same transaction); the driver alone runs that statement on that table with its arrays built beforehand (the floor of the layout, without the notifications); MikroORM 6 writes its own \`mo_counter\` table (the EntitySchema of scenario 3: id, count, name, updated_at) with its batched \`UPDATE ... CASE\` statements in one transaction, in a fresh database of the same server.`,
      `Redis settings: ${result.rSettings}; the raw baseline writes one hash per object with one field, the SDK's store checks each object's version and writes it with the changed fields in one Lua script (two calls per object; new objects also join their class index), which also publishes the batch's change event; on the SDK's keys, the MULTI writes the version and the field of each object without reading the version first, and the script runs with the arguments the store would send, built beforehand.`,
    ],
  };
}
