/**
 * Scenario 1: what a `@method` call costs. One object, `await increment()` in
 * a loop with auto-commit on (100 ms) and off, against the same class
 * undecorated and the same method on a MikroORM entity flushed every N calls;
 * and the same call spread over 10,000 live objects in a seeded random order
 * (what a call costs once the objects no longer sit in the CPU's caches).
 */
import { Bench } from 'tinybench';
import { commitAll, configureOaas, disableAutoCommit, enableAutoCommit, runInSession } from '../../src/index.js';
import { MoCounter, openMikroOrm } from '../support/mikro-orm.js';
import type { ScenarioReport } from '../support/report.js';
import { BenchCounter, PlainCounter } from '../support/services.js';
import { dbPath, sdkStoreSpec } from '../support/sqlite.js';
import { fmt, prng, ratioText, ratios, shuffle, spread, summarize, table, yieldToLoop } from '../support/stats.js';
import { scaled } from '../support/size.js';

/** Calls per timed sample; each sample ends with one yield to the event loop so timers (auto-commit) can fire. */
const BATCH = 1000;
const ROUNDS = scaled(5, 1);
const INTERVAL_MS = 100;
const TARGET_RATIO = 4;
/** Live objects of the many-objects contender, and how many times each is called per pass over the shuffled order. */
const MANY = scaled(10_000, 500);
const CALLS_PER_OBJECT = 10;
const MANY_TARGET_RATIO = 1.5;

export async function methodOverhead(): Promise<ScenarioReport> {
  await configureOaas({ store: sdkStoreSpec('s1-sdk'), autoCommit: true, autoCommitIntervalMs: INTERVAL_MS, logLevel: 'silent' });
  const orm = await openMikroOrm(dbPath('s1-mikro'));
  const em = orm.em.fork();
  em.create(MoCounter, { id: 'hot', count: 0, name: 'hot', updatedAt: 0 });
  await em.flush();
  const entity = await em.findOneOrFail(MoCounter, { id: 'hot' });
  const plain = new PlainCounter();
  let calls = 0;

  const perCall: Record<string, number[]> = {};
  const names = [
    '@method, auto-commit 100 ms',
    '@method, auto-commit off',
    'plain async method',
    'MikroORM, flush every 100',
    'MikroORM, flush every 1000',
    `@method, ${fmt(MANY)} objects, auto-commit off`,
  ];
  for (const name of names) perCall[name] = [];

  await runInSession(async () => {
    const counter = BenchCounter.create({ name: 'hot' }, { id: 'hot' });
    const many = Array.from({ length: MANY }, (_, i) => BenchCounter.create({ name: `many-${i}` }, { id: `many-${String(i).padStart(5, '0')}` }));
    await commitAll();
    // Every object CALLS_PER_OBJECT times, in a fixed shuffled order; the batches walk through it and wrap around.
    const order = shuffle(
      Array.from({ length: MANY * CALLS_PER_OBJECT }, (_, i) => i % MANY),
      prng(1),
    );
    let next = 0;
    const autoCommitOff = {
      beforeAll: () => {
        disableAutoCommit();
      },
      afterAll: async () => {
        enableAutoCommit();
        await commitAll();
      },
    };
    const mikroTask = (every: number) => async () => {
      for (let i = 0; i < BATCH; i++) {
        await entity.increment();
        if (++calls % every === 0) await em.flush();
      }
      await yieldToLoop();
    };
    for (let round = 0; round < ROUNDS; round++) {
      const bench = new Bench({ time: scaled(300, 10), warmupTime: scaled(100, 5), iterations: scaled(20, 2) });
      bench
        .add(names[0]!, async () => {
          for (let i = 0; i < BATCH; i++) await counter.increment();
          await yieldToLoop();
        })
        .add(
          names[1]!,
          async () => {
            for (let i = 0; i < BATCH; i++) await counter.increment();
            await yieldToLoop();
          },
          autoCommitOff,
        )
        .add(names[2]!, async () => {
          for (let i = 0; i < BATCH; i++) await plain.increment();
          await yieldToLoop();
        })
        .add(names[3]!, mikroTask(100))
        .add(names[4]!, mikroTask(1000))
        .add(
          names[5]!,
          async () => {
            for (let i = 0; i < BATCH; i++) {
              await many[order[next]!]!.increment();
              next = next + 1 === order.length ? 0 : next + 1;
            }
            await yieldToLoop();
          },
          autoCommitOff,
        );
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result.state !== 'completed') throw new Error(`scenario 1: task ${task.name} ${result.state}`);
        perCall[task.name]!.push((result.latency.p50 * 1e6) / BATCH);
      }
    }
    await commitAll();
    // The work really happened: the store and the database hold what the loops did.
    await em.flush();
    const stored = await orm.em.fork().findOneOrFail(MoCounter, { id: 'hot' });
    if (stored.count !== entity.count) throw new Error('scenario 1: MikroORM did not persist the counter');
    if (counter.version < 2) throw new Error('scenario 1: the SDK did not commit the counter');
    if (many.some((o) => o.version < 2)) throw new Error('scenario 1: the SDK did not commit every one of the many objects');
  });
  await orm.close();

  const plainNs = perCall[names[2]!]!;
  const onNs = perCall[names[0]!]!;
  const offNs = perCall[names[1]!]!;
  const manyNs = perCall[names[5]!]!;
  const onVsPlain = ratios(onNs, plainNs);
  const offVsPlain = ratios(offNs, plainNs);
  const manyVsOne = ratios(manyNs, offNs);
  const rows = names.map((name) => {
    const values = perCall[name]!;
    return [
      name,
      spread(summarize(values), ' ns'),
      ratioText(ratios(values, plainNs)),
      name.startsWith('@method') ? ratioText(ratios(values, perCall[names[3]!]!)) : '',
    ];
  });
  const perCallText = (ratio: ReturnType<typeof ratios>, ns: number[], baseNs: number[]): string =>
    `${fmt(ratio.median)}x (${fmt(summarize(ns).median)} ns vs ${fmt(summarize(baseNs).median)} ns)`;
  return {
    id: '1',
    title: 'Method overhead',
    setup:
      `One object, \`await obj.increment()\` in a loop, timed in batches of ${BATCH} calls (tinybench, 300 ms per task, ${ROUNDS} rounds; ` +
      `each figure is the median over rounds of the batch median, with the min-max over rounds). Every batch ends with one ` +
      `\`await new Promise(setImmediate)\` in every contender, so the auto-commit timer (${INTERVAL_MS} ms) can fire and its commits are paid for. ` +
      `The last contender calls ${fmt(MANY)} live objects instead, each ${CALLS_PER_OBJECT} times per pass in one seeded random order, auto-commit off.`,
    tables: [table(['contender', 'ns per call', 'vs plain', 'vs MikroORM/100'], rows)],
    verdicts: [
      {
        target: `a @method call, auto-commit on and off, costs at most ${TARGET_RATIO}x a plain async method call`,
        measured: `on: ${perCallText(onVsPlain, onNs, plainNs)}; off: ${perCallText(offVsPlain, offNs, plainNs)}`,
        pass: onVsPlain.median <= TARGET_RATIO && offVsPlain.median <= TARGET_RATIO,
      },
      {
        target: `with ${fmt(MANY)} live objects in a seeded random order, a call costs at most ${MANY_TARGET_RATIO}x one on a single object (auto-commit off)`,
        measured: perCallText(manyVsOne, manyNs, offNs),
        pass: manyVsOne.median <= MANY_TARGET_RATIO,
      },
    ],
    notes: [
      'The plain baseline runs in the same process, where AsyncLocalStorage is active, so it pays the same async_hooks promise cost as any code next to the SDK on Node 20.',
      `The ${fmt(MANY)} objects are ${fmt(MANY)} proxies, instances and cores, more than the CPU caches hold: the ratio to one object is what those misses add to a call.`,
    ],
  };
}
