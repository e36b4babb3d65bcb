/**
 * A loop of `await counter.increment()` on one live object (auto-commit off,
 * nothing else in the loop), for a CPU profile of the `@method` call path:
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-method.ts [calls]
 *
 * docs/benchmarks.md ("Where a call's time goes") shows what it found.
 */
import { commitAll, configureOaas, runInSession, shutdown } from '../src/index.js';
import { BenchCounter, PlainCounter } from './support/services.js';
import { removeDatabases, sdkStoreSpec } from './support/sqlite.js';

const calls = Number(process.argv[2] ?? 3_000_000);
const WARM_UP = 200_000;
const cpuNs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) * 1000;
};

await configureOaas({ store: sdkStoreSpec('profile-method'), autoCommit: false, logLevel: 'silent' });
try {
  await runInSession(async () => {
    const counter = BenchCounter.create({ name: 'hot' }, { id: 'hot' });
    await commitAll();
    const plain = new PlainCounter();
    for (let i = 0; i < WARM_UP; i++) await counter.increment();
    for (let i = 0; i < WARM_UP; i++) await plain.increment();
    // CPU time of this process (other work on a shared machine stays out of it), the same loop on a plain object after it.
    let started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await counter.increment();
    const sdkNs = cpuNs(started) / calls;
    started = process.cpuUsage();
    for (let i = 0; i < calls; i++) await plain.increment();
    const plainNs = cpuNs(started) / calls;
    process.stdout.write(`${calls} calls, ${sdkNs.toFixed(0)} ns per call, plain ${plainNs.toFixed(0)} ns, ratio ${(sdkNs / plainNs).toFixed(2)}x\n`);
  });
} finally {
  await shutdown();
  removeDatabases();
}
