/**
 * Scenario 2: one hot object. 100k increments with auto-commit at 10, 100
 * and 1000 ms, against auto-commit off (one commit at the end): how many
 * store writes the timer makes, and what it costs in throughput.
 */
import { commitAll, configureOaas, runInSession, setAutoCommitInterval } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { CountingStore } from '../support/counting-store.js';
import type { ScenarioReport, Verdict } from '../support/report.js';
import { BenchCounter } from '../support/services.js';
import { dbPath, sqliteSettings } from '../support/sqlite.js';
import { fmt, ratioText, ratios, spread, summarize, table, yieldToLoop } from '../support/stats.js';
import { scaled } from '../support/size.js';

const UPDATES = scaled(100_000, 2_000);
/** Increments between two yields to the event loop (a loop of awaited calls never lets timers run). */
const YIELD_EVERY = 100;
const RUNS = scaled(3, 1);
const CONFIGS: readonly (number | undefined)[] = [undefined, 10, 100, 1000];

interface Run {
  readonly ms: number;
  readonly writes: number;
  readonly bytes: number;
}

async function hotRun(interval: number | undefined, label: string): Promise<Run> {
  const store = new CountingStore(new SqliteStore({ path: dbPath(label), synchronous: sqliteSettings.synchronous }));
  await configureOaas({ store, autoCommit: interval !== undefined, autoCommitIntervalMs: interval ?? 1000, logLevel: 'silent' });
  return runInSession(async () => {
    const counter = BenchCounter.create({ name: 'hot' }, { id: 'hot' });
    await commitAll();
    store.reset();
    // Restart the timer with the load, so a window of `duration` holds at most duration / interval background commits.
    if (interval !== undefined) setAutoCommitInterval(interval);
    const started = performance.now();
    for (let i = 1; i <= UPDATES; i++) {
      await counter.increment();
      if (i % YIELD_EVERY === 0) await yieldToLoop();
    }
    await commitAll();
    const ms = performance.now() - started;
    const stored = await store.get({ clsId: counter.clsId, partitionId: counter.partitionId, objectId: 'hot' });
    const count = JSON.parse(new TextDecoder().decode(stored?.entries.get('count'))) as number;
    if (count !== UPDATES) throw new Error(`scenario 2: the store holds ${count}, expected ${UPDATES}`);
    return { ms, writes: store.applies, bytes: store.bytes };
  });
}

export async function hotObject(): Promise<ScenarioReport> {
  const runs = new Map<number | undefined, Run[]>(CONFIGS.map((c) => [c, []]));
  // Interleave the configurations run by run, so a slow phase of the machine hits them all.
  for (let run = 0; run < RUNS; run++) {
    for (const interval of CONFIGS) runs.get(interval)!.push(await hotRun(interval, `s2-${interval ?? 'off'}-${run}`));
  }
  const throughput = (r: Run): number => UPDATES / (r.ms / 1000);
  const off = runs.get(undefined)!.map(throughput);
  const rows: string[][] = [];
  const verdicts: Verdict[] = [];
  for (const interval of CONFIGS) {
    const list = runs.get(interval)!;
    const tput = list.map(throughput);
    const writes = summarize(list.map((r) => r.writes));
    const bound = list.map((r) => (interval === undefined ? 1 : r.ms / interval + 1));
    rows.push([
      interval === undefined ? 'off (one commit at the end)' : `${interval} ms`,
      spread(summarize(tput), '/s'),
      ratioText(ratios(tput, off)),
      `${fmt(writes.median)} (${fmt(writes.min)}-${fmt(writes.max)})`,
      interval === undefined ? '1' : fmt(summarize(bound).median),
      fmt(summarize(list.map((r) => r.bytes / UPDATES)).median, 3),
      fmt(summarize(list.map((r) => r.bytes / r.writes)).median),
    ]);
    if (interval === 100) {
      const worst = Math.max(...list.map((r, i) => r.writes - bound[i]!));
      verdicts.push({
        target: 'at 100 ms: store writes <= duration / interval + 1',
        measured: `${list.map((r, i) => `${r.writes} <= ${fmt(bound[i]!)}`).join(', ')} (runs)`,
        pass: worst <= 0,
      });
      const ratio = ratios(tput, off);
      verdicts.push({
        target: 'at 100 ms: throughput at least half of auto-commit off',
        measured: `${fmt(ratio.median)}x (${fmt(ratio.min)}-${fmt(ratio.max)})`,
        pass: ratio.median >= 0.5,
      });
    }
  }
  return {
    id: '2',
    title: 'Hot object coalescing',
    setup:
      `${UPDATES.toLocaleString('en-US')} \`await counter.increment()\` on one object in one session, yielding to the event loop ` +
      `(\`await new Promise(setImmediate)\`) every ${YIELD_EVERY} calls so the auto-commit timer can fire; the duration includes ` +
      `the final \`commitAll()\`, and the auto-commit timer is restarted as the loop starts (so the bound is the background commits plus that final one). ${RUNS} runs per setting, interleaved; median (min-max). Writes are store transactions counted by a ` +
      'wrapper around the SQLite store; bytes are the payload handed to the store (object key, entry keys and encoded values).',
    tables: [table(['auto-commit', 'updates per s', 'vs off', 'store writes', 'duration/interval + 1', 'bytes per update', 'bytes per write'], rows)],
    verdicts,
    notes: ['Each write carries only the fields that changed (here `count`), so the bytes per write do not grow with the number of updates coalesced into it.'],
  };
}
