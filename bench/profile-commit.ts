/**
 * Scenario 3's commit on its own: 10,000 live objects, `increment()` on
 * each (once, or as often as the second argument says; in one seeded random
 * order with a third argument `random`, as scenario 3 updates them), then one
 * `commitAll()`, in a loop; prints the median CPU time of
 * the commits, for a CPU profile of the commit path:
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-commit.ts [rounds] [updates] [random]
 *
 * docs/benchmarks.md (scenario 3) shows what it found.
 */
import { commitAll, configureOaas, runInSession, shutdown } from '../src/index.js';
import { BenchCounter } from './support/services.js';
import { removeDatabases, sdkStoreSpec } from './support/sqlite.js';
import { prng, shuffle } from './support/stats.js';

const rounds = Number(process.argv[2] ?? 60);
/** Calls per object before each commit: scenario 3 makes 10. */
const updates = Number(process.argv[3] ?? 1);
const random = process.argv[4] === 'random';
const OBJECTS = 10_000;

await configureOaas({ store: sdkStoreSpec('profile-commit'), autoCommit: false, logLevel: 'silent' });
try {
  await runInSession(async () => {
    const objects = Array.from({ length: OBJECTS }, (_, i) => BenchCounter.create({ name: `obj-${i}` }, { id: `obj-${String(i).padStart(5, '0')}` }));
    await commitAll();
    const commits: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = Array.from({ length: updates * OBJECTS }, (_, k) => objects[k % OBJECTS]!);
      if (random) shuffle(order, prng(1000 + round));
      for (const o of order) await o.increment();
      // CPU time of this process: other work on a shared machine stays out of it.
      const started = process.cpuUsage();
      const summary = await commitAll();
      const used = process.cpuUsage(started);
      if (summary.committed !== OBJECTS) throw new Error(`committed ${summary.committed} objects`);
      commits.push((used.user + used.system) / 1000);
    }
    commits.sort((a, b) => a - b);
    process.stdout.write(`${rounds} commits of ${OBJECTS} objects, ${commits[commits.length >> 1]!.toFixed(2)} ms of CPU per commit (median)\n`);
  });
} finally {
  await shutdown();
  removeDatabases();
}
