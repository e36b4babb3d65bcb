/**
 * A loop of `sessionScope` blocks, each calling `increment()` on three live
 * objects and committing them (scenario 6's SDK contender, nothing else in
 * the loop), for a CPU profile of the scope and commit path:
 *
 *     node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profile-scope.ts [scopes]
 *
 * docs/benchmarks.md (scenario 6) shows what it found.
 */
import { commitAll, configureOaas, runInSession, sessionScope, shutdown } from '../src/index.js';
import { BenchCounter } from './support/services.js';
import { removeDatabases, sdkStoreSpec } from './support/sqlite.js';

const scopes = Number(process.argv[2] ?? 100_000);
const WARM_UP = 10_000;

await configureOaas({ store: sdkStoreSpec('profile-scope'), autoCommit: true, logLevel: 'silent' });
try {
  const objects = await runInSession(async () => {
    const created = ['a', 'b', 'c'].map((id) => BenchCounter.create({ name: id }, { id }));
    await commitAll();
    return created;
  });
  const scope = (): Promise<void> =>
    sessionScope(async () => {
      for (const o of objects) await o.increment();
    });
  for (let i = 0; i < WARM_UP; i++) await scope();
  // The median batch of 100 scopes: the file's periodic checkpoints stay out of it, as they do out of scenario 6's median.
  const batches: number[] = [];
  for (let i = 0; i < scopes; i += 100) {
    // CPU time of this process: other work on a shared machine stays out of it.
    const started = process.cpuUsage();
    for (let k = 0; k < 100; k++) await scope();
    const used = process.cpuUsage(started);
    batches.push((used.user + used.system) / 100);
  }
  batches.sort((a, b) => a - b);
  process.stdout.write(`${scopes} scopes, ${batches[batches.length >> 1]!.toFixed(2)} µs of CPU per scope (median of batches of 100)\n`);
} finally {
  await shutdown();
  removeDatabases();
}
