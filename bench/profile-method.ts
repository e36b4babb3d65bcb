/**
 * A loop of `await counter.increment()` on one live object (auto-commit off,
 * nothing else in the loop), for a CPU profile of the `@method` call path;
 * with a second argument, on that many live objects in one seeded random
 * order instead (a plain object per SDK object for the baseline):
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-method.ts [calls] [objects]
 *
 * docs/benchmarks.md ("Where a call's time goes") shows what it found.
 */
import { commitAll, configureOaas, runInSession, shutdown } from '../src/index.js';
import { BenchCounter, PlainCounter } from './support/services.js';
import { removeDatabases, sdkStoreSpec } from './support/sqlite.js';
import { prng, shuffle } from './support/stats.js';

const calls = Number(process.argv[2] ?? 3_000_000);
const objects = Number(process.argv[3] ?? 1);
const WARM_UP = 200_000;
const cpuNs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) * 1000;
};

await configureOaas({ store: sdkStoreSpec('profile-method'), autoCommit: false, logLevel: 'silent' });
try {
  await runInSession(async () => {
    const counters = Array.from({ length: objects }, (_, i) => BenchCounter.create({ name: `c${i}` }, { id: `c${i}` }));
    await commitAll();
    const plains = counters.map(() => new PlainCounter());
    // One order for both loops: position k calls object order[k % n].
    const order = shuffle(Array.from({ length: objects * 10 }, (_, k) => k % objects), prng(42));
    const n = order.length;
    for (let i = 0; i < WARM_UP; i++) await counters[order[i % n]!]!.increment();
    for (let i = 0; i < WARM_UP; i++) await plains[order[i % n]!]!.increment();
    // CPU time of this process (other work on a shared machine stays out of it), the same loop on plain objects after it.
    let started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await counters[order[i % n]!]!.increment();
    const sdkNs = cpuNs(started) / calls;
    started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await plains[order[i % n]!]!.increment();
    const plainNs = cpuNs(started) / calls;
    process.stdout.write(`${calls} calls on ${objects} object(s), ${sdkNs.toFixed(0)} ns per call, plain ${plainNs.toFixed(0)} ns, ratio ${(sdkNs / plainNs).toFixed(2)}x\n`);
  });
} finally {
  await shutdown();
  removeDatabases();
}
