/**
 * A loop of `await counter.increment()` on one live object (auto-commit off,
 * nothing else in the loop), for a CPU profile of the `@method` call path:
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-method.ts [calls]
 *
 * docs/benchmarks.md ("Where a call's time goes") shows what it found.
 */
import { commitAll, configureOaas, runInSession, shutdown } from '../src/index.js';
import { BenchCounter } from './support/services.js';
import { removeDatabases, sdkStoreSpec } from './support/sqlite.js';

const calls = Number(process.argv[2] ?? 3_000_000);
const WARM_UP = 200_000;

await configureOaas({ store: sdkStoreSpec('profile-method'), autoCommit: false, logLevel: 'silent' });
try {
  await runInSession(async () => {
    const counter = BenchCounter.create({ name: 'hot' }, { id: 'hot' });
    await commitAll();
    for (let i = 0; i < WARM_UP; i++) await counter.increment();
    const started = performance.now();
    for (let i = 0; i < calls; i++) await counter.increment();
    process.stdout.write(`${calls} calls, ${(((performance.now() - started) * 1e6) / calls).toFixed(0)} ns per call\n`);
  });
} finally {
  await shutdown();
  removeDatabases();
}
