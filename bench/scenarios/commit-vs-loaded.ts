/**
 * Scenario 4: what a commit costs as the number of loaded objects grows.
 * 1k, 10k and 100k objects live in the process, one of them changes,
 * `commitAll()`: the time must not follow the number of loaded objects.
 */
import { commitAll, configureOaas, getAutoSessionManager, runInSession } from '../../src/index.js';
import type { ScenarioReport } from '../support/report.js';
import { BenchCounter } from '../support/services.js';
import { sdkStoreSpec } from '../support/sqlite.js';
import { fmt, prng, ratioText, ratios, spread, summarize, table, yieldToLoop } from '../support/stats.js';
import { scaled } from '../support/size.js';

const SIZES = [scaled(1_000, 100), scaled(10_000, 300), scaled(100_000, 1_000)];
/** Objects created per commit while loading. */
const CHUNK = scaled(10_000, 500);
const WARMUP = scaled(100, 5);
const SAMPLES = scaled(51, 5);
const TARGET_RATIO = 2;

async function commitTimes(size: number, label: string): Promise<{ times: number[]; live: number }> {
  await configureOaas({ store: sdkStoreSpec(`s4-${label}`), autoCommit: false, logLevel: 'silent' });
  return runInSession(async () => {
    const objects: BenchCounter[] = [];
    for (let start = 0; start < size; start += CHUNK) {
      for (let i = start; i < Math.min(size, start + CHUNK); i++) objects.push(BenchCounter.create({ name: `item-${i}` }, { id: `obj-${i}` }));
      await commitAll();
    }
    const random = prng(size);
    const times: number[] = [];
    for (let sample = 0; sample < WARMUP + SAMPLES; sample++) {
      await objects[Math.floor(random() * size)]!.increment();
      await yieldToLoop();
      const started = performance.now();
      const summary = await commitAll();
      const ms = performance.now() - started;
      if (summary.committed !== 1) throw new Error(`scenario 4: committed ${summary.committed} objects, expected 1`);
      if (sample >= WARMUP) times.push(ms);
    }
    return { times, live: getAutoSessionManager().liveObjectCount };
  });
}

export async function commitVsLoaded(): Promise<ScenarioReport> {
  const results: { size: number; times: number[]; live: number }[] = [];
  // A throw-away pass first, so the 1k case is not the one that warms up the JIT.
  await commitTimes(SIZES[0]!, 'warmup');
  for (const size of SIZES) results.push({ size, ...(await commitTimes(size, `${size}-${results.length}`)) });
  const base = results[0]!.times;
  const rows = results.map((r) => [r.size.toLocaleString('en-US'), r.live.toLocaleString('en-US'), spread(summarize(r.times.map((t) => t * 1000)), ' µs'), ratioText(ratios(r.times, r.times.map(() => summarize(base).median)))]);
  const largest = summarize(results.at(-1)!.times).median / summarize(base).median;
  return {
    id: '4',
    title: 'Commit cost vs loaded objects',
    setup:
      `${SIZES.map((s) => s.toLocaleString('en-US')).join(', ')} objects created and committed (in chunks of ${CHUNK.toLocaleString('en-US')}) and held ` +
      `live (after one discarded pass at the smallest size, to warm up the JIT); then ${SAMPLES} times (after ${WARMUP} warm-up rounds): one random object gets \`await increment()\`, and \`commitAll()\` is timed. Median (min-max).`,
    tables: [table(['objects loaded', 'live objects (identity map)', 'commitAll() with 1 changed', 'vs 1k (median)'], rows)],
    verdicts: [
      {
        target: `the ${SIZES.at(-1)!.toLocaleString('en-US')} case within ${TARGET_RATIO}x the ${SIZES[0]!.toLocaleString('en-US')} case`,
        measured: `${fmt(largest)}x (${fmt(summarize(results.at(-1)!.times).median * 1000)} µs vs ${fmt(summarize(base).median * 1000)} µs)`,
        pass: largest <= TARGET_RATIO,
      },
    ],
    notes: ['A commit visits only the sessions with pending changes and, in them, only the objects they track; loaded but unchanged objects are not scanned.'],
  };
}
