import { commitAll, configureOaas, runInSession } from './src/index.js';
import { BenchCounter } from './bench/support/services.js';
import { rmSync } from 'node:fs';
const path = '/tmp/proto/prof.db'; rmSync(path, { force: true }); rmSync(path + '-wal', { force: true });
await configureOaas({ store: `sqlite:${path}?synchronous=normal`, autoCommit: false, logLevel: 'silent' });
const ids = Array.from({ length: 10000 }, (_, i) => `obj-${String(i).padStart(5, '0')}`);
const objects = await runInSession(async () => { const c = ids.map((id) => BenchCounter.create({ name: id }, { id })); await commitAll(); return c; });
const times: number[] = [];
for (let run = 0; run < 60; run++) {
  await runInSession(async () => {
    for (const o of objects) await o.increment();
    const s = performance.now(); await commitAll(); times.push(performance.now() - s);
  });
}
times.sort((a, b) => a - b); console.log('commit median', times[30]!.toFixed(1), 'ms min', times[0]!.toFixed(1));
process.exit(0);
