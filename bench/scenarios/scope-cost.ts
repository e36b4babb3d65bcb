/**
 * Scenario 6: what an atomic scope costs. `sessionScope` calling a method on
 * three live objects and committing them in one transaction, against
 * MikroORM's `em.transactional()` doing the same to three managed entities,
 * and against the driver alone (three UPDATEs in one transaction).
 */
import { Bench } from 'tinybench';
import { commitAll, configureOaas, runInSession, sessionScope } from '../../src/index.js';
import { MoCounter, openMikroOrm } from '../support/mikro-orm.js';
import type { ScenarioReport } from '../support/report.js';
import { BenchCounter } from '../support/services.js';
import { dbPath, openRaw, sdkStoreSpec } from '../support/sqlite.js';
import { ratioText, ratios, spread, summarize, table } from '../support/stats.js';
import { scaled } from '../support/size.js';

const ROUNDS = scaled(5, 1);
const IDS = ['a', 'b', 'c'];

export async function scopeCost(): Promise<ScenarioReport> {
  await configureOaas({ store: sdkStoreSpec('s6-sdk'), autoCommit: true, logLevel: 'silent' });
  const orm = await openMikroOrm(dbPath('s6-mikro'));
  const em = orm.em.fork();
  for (const id of IDS) em.create(MoCounter, { id, count: 0, name: id, updatedAt: 0 });
  await em.flush();
  const entities = await em.find(MoCounter, { id: { $in: IDS } }, { orderBy: { id: 'asc' } });

  const ddl = (await em.execute<{ sql: string }[]>("select sql from sqlite_master where name = 'mo_counter'"))[0]!.sql;
  const db = openRaw(dbPath('s6-raw'));
  db.exec(ddl);
  for (const id of IDS) db.prepare('insert into mo_counter (id, count, name, updated_at) values (?, 0, ?, 0)').run(id, id);
  const bump = db.prepare<[string]>('update mo_counter set count = count + 1 where id = ?');
  const rawScope = db.transaction(() => {
    for (const id of IDS) bump.run(id);
  });

  const names = ['SDK: sessionScope', 'MikroORM 6: em.transactional', 'better-sqlite3: 3 UPDATEs in a transaction'];
  const perScope: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let scopes = 0;
  const objects = await runInSession(async () => {
    const created = IDS.map((id) => BenchCounter.create({ name: id }, { id }));
    await commitAll();
    return created;
  });
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: scaled(300, 10), warmupTime: scaled(100, 5), iterations: scaled(20, 2) });
    bench
      .add(names[0]!, async () => {
        await sessionScope(async () => {
          for (const o of objects) await o.increment();
        });
        scopes += 1;
      })
      .add(names[1]!, async () => {
        await em.transactional(async () => {
          for (const e of entities) await e.increment();
        });
      })
      .add(names[2]!, async () => {
        rawScope.immediate();
        await Promise.resolve();
      });
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== 'completed') throw new Error(`scenario 6: task ${task.name} ${task.result.state}`);
      perScope[task.name]!.push(task.result.latency.p50 * 1000);
    }
  }
  // Each contender really wrote: the counts in the databases match the scopes run.
  const stored = await orm.em.fork().find(MoCounter, {}, { orderBy: { id: 'asc' } });
  if (stored.some((e, i) => e.count !== entities[i]!.count || e.count === 0)) throw new Error('scenario 6: MikroORM did not commit its scopes');
  if (objects.some((o) => o.count !== scopes || o.version !== scopes + 1)) throw new Error('scenario 6: the SDK did not commit every scope');
  await orm.close();
  db.close();

  const sdk = perScope[names[0]!]!;
  const rows = names.map((name) => [
    name,
    spread(summarize(perScope[name]!), ' µs'),
    name === names[0] ? '' : ratioText(ratios(sdk, perScope[name]!)),
  ]);
  const vsRaw = ratios(sdk, perScope[names[2]!]!);
  return {
    id: '6',
    title: 'Scope cost',
    setup:
      `One atomic scope calls \`increment()\` on three objects already live (entities already managed) and commits them in one transaction; ` +
      `tinybench, one scope per iteration, 300 ms per task, ${ROUNDS} rounds; median over rounds of the per-scope median (min-max over rounds).`,
    tables: [table(['contender', 'per scope', 'SDK vs this'], rows)],
    verdicts: [
      {
        target: 'a scope of 3 objects costs at most 2x three raw UPDATEs in a transaction',
        measured: ratioText(vsRaw),
        pass: vsRaw.median <= 2,
      },
    ],
    notes: [
      'The SDK scope also takes each object\'s turn (so concurrent calls wait), records undo state and checks versions; `em.transactional` forks the entity manager and flushes the three entities.',
    ],
  };
}
