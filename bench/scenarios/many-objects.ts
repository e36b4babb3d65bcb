/**
 * Scenario 3: many objects. 10k objects, 10 updates each in a random order,
 * then one commit: objects made durable per second by the SDK's
 * `commitAll()`, by MikroORM's `em.flush()` of the same updates, and by
 * better-sqlite3 writing the same rows in one transaction with prepared
 * statements (the practical limit).
 */
import type Database from 'better-sqlite3';
import { commitAll, configureOaas, runInSession } from '../../src/index.js';
import { MoCounter, mikroPragmas, openMikroOrm } from '../support/mikro-orm.js';
import type { ScenarioReport } from '../support/report.js';
import { BenchCounter, PlainCounter } from '../support/services.js';
import { dbPath, openRaw, sdkStoreSpec } from '../support/sqlite.js';
import { fmt, prng, ratioText, ratios, shuffle, spread, summarize, table, yieldToLoop } from '../support/stats.js';
import { scaled } from '../support/size.js';

const OBJECTS = scaled(10_000, 200);
const UPDATES_PER_OBJECT = 10;
const RUNS = scaled(7, 1);
const YIELD_EVERY = 1000;

interface Timing {
  /** Applying the 100k updates in memory. */
  readonly updateMs: number;
  /** The commit alone. */
  readonly commitMs: number;
}

/** Object indexes, each repeated UPDATES_PER_OBJECT times, shuffled with a fixed seed per run. */
function updateOrder(run: number): number[] {
  const order: number[] = [];
  for (let u = 0; u < UPDATES_PER_OBJECT; u++) for (let i = 0; i < OBJECTS; i++) order.push(i);
  return shuffle(order, prng(1000 + run));
}

const ids = Array.from({ length: OBJECTS }, (_, i) => `obj-${String(i).padStart(5, '0')}`);

async function timeUpdates(order: readonly number[], update: (index: number) => unknown): Promise<number> {
  const started = performance.now();
  for (let k = 0; k < order.length; k++) {
    await update(order[k]!);
    if ((k + 1) % YIELD_EVERY === 0) await yieldToLoop();
  }
  return performance.now() - started;
}

async function sdkRuns(): Promise<Timing[]> {
  await configureOaas({ store: sdkStoreSpec('s3-sdk'), autoCommit: false, logLevel: 'silent' });
  const objects = await runInSession(async () => {
    const created = ids.map((id) => BenchCounter.create({ name: id }, { id }));
    await commitAll();
    return created;
  });
  const timings: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    const order = updateOrder(run);
    timings.push(
      await runInSession(async () => {
        const updateMs = await timeUpdates(order, (i) => objects[i]!.increment());
        const started = performance.now();
        const summary = await commitAll();
        const commitMs = performance.now() - started;
        if (summary.committed !== OBJECTS) throw new Error(`scenario 3: the SDK committed ${summary.committed} objects`);
        return { updateMs, commitMs };
      }),
    );
  }
  if (objects.some((o) => o.count !== RUNS * UPDATES_PER_OBJECT || o.version !== RUNS + 1)) throw new Error('scenario 3: SDK objects out of step');
  return timings;
}

async function mikroRuns(): Promise<{ timings: Timing[]; ddl: string; pragmas: string }> {
  const orm = await openMikroOrm(dbPath('s3-mikro'));
  const em = orm.em.fork();
  for (const id of ids) em.create(MoCounter, { id, count: 0, name: id, updatedAt: 0 });
  await em.flush();
  em.clear();
  const loaded = await em.find(MoCounter, {}, { orderBy: { id: 'asc' } });
  const timings: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    const order = updateOrder(run);
    const updateMs = await timeUpdates(order, (i) => loaded[i]!.increment());
    const started = performance.now();
    await em.flush();
    timings.push({ updateMs, commitMs: performance.now() - started });
  }
  const rows = await orm.em.fork().execute<{ n: number }[]>(`select count(*) as n from mo_counter where count = ${RUNS * UPDATES_PER_OBJECT}`);
  if (rows[0]?.n !== OBJECTS) throw new Error('scenario 3: MikroORM did not persist every update');
  const ddl = (await orm.em.fork().execute<{ sql: string }[]>("select sql from sqlite_master where name = 'mo_counter'"))[0]?.sql ?? '';
  const pragmas = await mikroPragmas(orm);
  await orm.close();
  return { timings, ddl, pragmas };
}

/**
 * The same rows in a table shaped like MikroORM's, updated with one prepared
 * statement per row in one transaction. `awaited`: the updates are
 * `await row.increment()` on plain objects with a plain async method, as an
 * application awaits every `@method` call: the floor of end to end for any
 * API whose calls are awaited.
 */
async function rawTableRuns(ddl: string, awaited: boolean): Promise<{ timings: Timing[]; pragmas: string }> {
  const db = openRaw(dbPath(awaited ? 's3-raw-awaited' : 's3-raw'));
  const pragmas = `journal_mode=${String(db.pragma('journal_mode', { simple: true }))} synchronous=${String(db.pragma('synchronous', { simple: true }))}`;
  db.exec(ddl);
  const insert = db.prepare('insert into mo_counter (id, count, name, updated_at) values (?, 0, ?, 0)');
  db.transaction(() => {
    for (const id of ids) insert.run(id, id);
  }).immediate();
  const update = db.prepare<[number, string]>('update mo_counter set count = ? where id = ?');
  const rows = ids.map((id) => {
    const row = new PlainCounter();
    row.name = id;
    return row;
  });
  const write = db.transaction(() => {
    for (const row of rows) update.run(row.count, row.name);
  });
  const timings: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    const order = updateOrder(run);
    let started = performance.now();
    let updateMs: number;
    if (awaited) {
      updateMs = await timeUpdates(order, (i) => rows[i]!.increment());
    } else {
      for (const i of order) rows[i]!.count += 1;
      updateMs = performance.now() - started;
    }
    started = performance.now();
    write.immediate();
    timings.push({ updateMs, commitMs: performance.now() - started });
  }
  const stored = db.prepare<[number], number>('select count(*) from mo_counter where count = ?').pluck().get(RUNS * UPDATES_PER_OBJECT);
  if (stored !== OBJECTS) throw new Error('scenario 3: the driver did not persist every update');
  db.close();
  return { timings, pragmas };
}

/**
 * The same rows in the SDK's own table: the statement its SQLite store runs
 * for these writes (one version-checked UPDATE of the object's row, by row id,
 * with its state document), prepared once, in one transaction. The floor for the
 * SDK's layout.
 */
async function rawSdkSchemaRuns(): Promise<Timing[]> {
  // Let the SDK create its schema and the objects, then write with the driver alone.
  await configureOaas({ store: sdkStoreSpec('s3-raw-sdk-schema'), autoCommit: false, logLevel: 'silent' });
  await runInSession(async () => {
    for (const id of ids) BenchCounter.create({ name: id }, { id });
    await commitAll();
  });
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
  const db: Database.Database = openRaw(dbPath('s3-raw-sdk-schema'));
  // By row id, as the SDK's store updates an object it has read or written before.
  const update = db.prepare<[number, string, number, number, number]>('UPDATE oaas_objects SET version = ?, state = ?, raw = NULL, entry_count = ? WHERE id = ? AND version = ?');
  const rowIds = new Map(db.prepare<[], { id: number; object_id: string }>("SELECT id, object_id FROM oaas_objects WHERE cls_id = 'bench.Counter'").all().map((r) => [r.object_id, r.id]));
  const rows = ids.map((id) => ({ id, rowId: rowIds.get(id)!, count: 0, version: 1, name: JSON.stringify(id) }));
  const write = db.transaction(() => {
    for (const row of rows) {
      const state = `{"count":${JSON.stringify(row.count)},"name":${row.name},"updatedAt":0}`;
      if (update.run(row.version + 1, state, 3, row.rowId, row.version).changes !== 1) throw new Error('scenario 3: raw write lost its row');
      row.version += 1;
    }
  });
  const timings: Timing[] = [];
  for (let run = 0; run < RUNS; run++) {
    const order = updateOrder(run);
    let started = performance.now();
    for (const i of order) rows[i]!.count += 1;
    const updateMs = performance.now() - started;
    started = performance.now();
    write.immediate();
    timings.push({ updateMs, commitMs: performance.now() - started });
  }
  db.close();
  return timings;
}

export async function manyObjects(): Promise<ScenarioReport> {
  const sdk = await sdkRuns();
  const mikro = await mikroRuns();
  const rawTable = await rawTableRuns(mikro.ddl, false);
  const rawAwaited = await rawTableRuns(mikro.ddl, true);
  const rawSdk = await rawSdkSchemaRuns();

  const durable = (t: Timing): number => OBJECTS / (t.commitMs / 1000);
  const endToEnd = (t: Timing): number => OBJECTS / ((t.updateMs + t.commitMs) / 1000);
  const contenders: [string, Timing[]][] = [
    ['SDK: `commitAll()`', sdk],
    ['MikroORM 6: `em.flush()`', mikro.timings],
    ['better-sqlite3, same table as MikroORM', rawTable.timings],
    ['the same, each update an awaited call of a plain async method', rawAwaited.timings],
    ["better-sqlite3, the SDK's tables and statements", rawSdk],
  ];
  const sdkCommit = sdk.map(durable);
  const rows = contenders.map(([name, timings]) => [
    name,
    spread(summarize(timings.map((t) => t.commitMs)), ' ms'),
    spread(summarize(timings.map(durable)), '/s'),
    name.startsWith('SDK') ? '' : ratioText(ratios(sdkCommit, timings.map(durable))),
    spread(summarize(timings.map((t) => t.updateMs)), ' ms'),
    spread(summarize(timings.map(endToEnd)), '/s'),
    name.startsWith('SDK') ? '' : ratioText(ratios(sdk.map(endToEnd), timings.map(endToEnd))),
  ]);
  const vsMikro = ratios(sdkCommit, mikro.timings.map(durable));
  const vsRaw = ratios(sdkCommit, rawTable.timings.map(durable));
  const e2eVsMikro = ratios(sdk.map(endToEnd), mikro.timings.map(endToEnd));
  const e2eVsRaw = ratios(sdk.map(endToEnd), rawTable.timings.map(endToEnd));
  return {
    id: '3',
    title: 'Many objects',
    setup:
      `${OBJECTS.toLocaleString('en-US')} objects already stored and loaded, ${UPDATES_PER_OBJECT} updates each ` +
      `(${(OBJECTS * UPDATES_PER_OBJECT).toLocaleString('en-US')} in a seeded random order; \`await obj.increment()\` for the SDK and MikroORM, ` +
      `a field increment on a plain row object for the driver), then one commit of all ${OBJECTS.toLocaleString('en-US')} changed objects in one transaction. ` +
      `${RUNS} runs each; median (min-max). "Commit" times only the commit; "end to end" adds the updates.`,
    tables: [
      table(
        ['contender', 'commit', 'objects durable per s (commit)', 'SDK vs this (commit)', 'updates', 'objects per s (end to end)', 'SDK vs this (end to end)'],
        rows,
      ),
    ],
    verdicts: [
      {
        target: 'commit throughput at least 2x MikroORM',
        measured: `${fmt(vsMikro.median)}x (${fmt(vsMikro.min)}-${fmt(vsMikro.max)})`,
        pass: vsMikro.median >= 2,
      },
      {
        target: 'commit throughput at least 0.5x the raw driver (same table as MikroORM)',
        measured: `${fmt(vsRaw.median)}x (${fmt(vsRaw.min)}-${fmt(vsRaw.max)})`,
        pass: vsRaw.median >= 0.5,
      },
      {
        target: 'end to end (updates and commit) at least 2x MikroORM',
        measured: `${fmt(e2eVsMikro.median)}x (${fmt(e2eVsMikro.min)}-${fmt(e2eVsMikro.max)})`,
        pass: e2eVsMikro.median >= 2,
      },
      {
        target: 'end to end at least 0.3x the raw driver (same table as MikroORM)',
        measured: `${fmt(e2eVsRaw.median)}x (${fmt(e2eVsRaw.min)}-${fmt(e2eVsRaw.max)})`,
        pass: e2eVsRaw.median >= 0.3,
      },
    ],
    notes: [
      'The commit targets are checked on the commit alone ("objects made durable per second"); the end-to-end ones add the 100k calls (scenario 1 measures one call).',
      `Connection settings as read back: MikroORM ${mikro.pragmas}, driver ${rawTable.pragmas} (1 = NORMAL, 2 = FULL); the SDK's store applies the same pragmas from its \`?synchronous=\` option.`,
      'The row "each update an awaited call of a plain async method" writes like the driver\'s row above it, but makes each update an `await` of a plain async method on a plain object, as an application awaits each `@method` call: the end-to-end floor of any API whose calls are awaited, in this process (where the SDK\'s AsyncLocalStorage is active).',
      "The SDK keeps an object in one row (layout 2: the version and a state document of its fields) and checks the version of every object in the batch; the last row shows what that statement costs on the driver alone.",
    ],
  };
}
