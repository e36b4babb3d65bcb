/**
 * The benchmark suite: `npm run bench` (not part of `npm test`).
 *
 *     npm run bench                      all scenarios (about 2-3 minutes on 2 cores; scenario 9 about 65 s)
 *     npm run bench -- --only 1,3        some of them
 *     npm run bench -- --full            scenario 5 with 1M sessions instead of 200k
 *     npm run bench -- --out results.md  also write the report as Markdown
 *     npm run bench -- --smoke           every scenario once at a tiny size (CI: the code runs; the figures mean nothing)
 *     BENCH_SQLITE_SYNCHRONOUS=full npm run bench
 *
 * Every scenario is bounded in size and time, uses local SQLite files (3b
 * and 8: throw-away PostgreSQL and Redis servers on 127.0.0.1; 7: HTTP
 * servers and restate-server as child processes on 127.0.0.1; 9: cluster
 * members as child processes on a throw-away PostgreSQL), and reports
 * medians with their spread and ratios against baselines measured in the same
 * run. docs/benchmarks.md explains the scenarios and keeps the
 * figures of the last recorded run.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { shutdown } from '../src/index.js';
import type { BenchOptions, ScenarioReport } from './support/report.js';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    full: { type: 'boolean', default: false },
    out: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
// Before the scenarios load: their sizes are read when their modules are evaluated (see support/size.ts).
if (values.smoke) process.env.OAAS_BENCH_SMOKE = '1';
const { hotObject } = await import('./scenarios/hot-object.js');
const { commitVsLoaded } = await import('./scenarios/commit-vs-loaded.js');
const { cacheLatency } = await import('./scenarios/cache-latency.js');
const { cluster } = await import('./scenarios/cluster.js');
const { manyObjects } = await import('./scenarios/many-objects.js');
const { manyObjectsServers } = await import('./scenarios/many-objects-servers.js');
const { memory } = await import('./scenarios/memory.js');
const { methodOverhead } = await import('./scenarios/method-overhead.js');
const { remoteInvocation } = await import('./scenarios/remote-invocation.js');
const { scopeCost } = await import('./scenarios/scope-cost.js');
const { environment } = await import('./support/env.js');
const { renderReport } = await import('./support/report.js');
const { removeDatabases } = await import('./support/sqlite.js');
const { table } = await import('./support/stats.js');

const options: BenchOptions = { full: values.full };
const scenarios: [string, () => Promise<ScenarioReport>][] = [
  ['1', methodOverhead],
  ['2', hotObject],
  ['3', manyObjects],
  ['3b', manyObjectsServers],
  ['4', commitVsLoaded],
  ['5', () => memory(options)],
  ['6', scopeCost],
  ['7', remoteInvocation],
  ['8', cacheLatency],
  ['9', cluster],
];
const only = values.only?.split(',').map((s) => s.trim());
const selected = scenarios.filter(([id]) => only === undefined || only.includes(id));

const header = table(
  ['setting', 'value'],
  environment().map(([k, v]) => [k, v]),
);
console.log(`# oaas-sdk benchmarks\n\n${header}\n`);
if (values.smoke) console.log('Smoke run: every scenario once at a tiny size. The figures below measure nothing.\n');

const reports: ScenarioReport[] = [];
const started = performance.now();
try {
  for (const [id, run] of selected) {
    const scenarioStart = performance.now();
    const report = await run();
    reports.push(report);
    console.log(renderReport(report));
    console.log(`(scenario ${id}: ${((performance.now() - scenarioStart) / 1000).toFixed(1)} s)\n`);
  }
} finally {
  await shutdown().catch(() => undefined);
  removeDatabases();
}

const summary = table(
  ['scenario', 'target', 'measured', 'result'],
  reports.flatMap((r) => r.verdicts.map((v) => [`${r.id}. ${r.title}`, v.target, v.measured, v.pass ? 'PASS' : 'MISS'])),
);
console.log(`## Targets\n\n${summary}\n\ntotal: ${((performance.now() - started) / 1000).toFixed(0)} s`);

if (values.out !== undefined) {
  const markdown = [`## Environment\n\n${header}\n`, `## Targets\n\n${summary}\n`, '## Scenarios\n', ...reports.map(renderReport)].join('\n');
  writeFileSync(values.out, markdown);
  console.log(`report written to ${values.out}`);
}
