import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { shutdownAfterEach } from '../support/runtime.js';
import { integrityCheck, parseWriterLog, readStored } from './support/writer-log.js';

shutdownAfterEach();

let dir: string | undefined;
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const writer = new URL('./fixtures/load-writer.ts', import.meta.url);
/** Auto-commit intervals tried, each with its own database file, alternating trial by trial. */
const INTERVALS = [50, 200];
const TRIALS = 24;
/**
 * What a trial may lose beyond one interval: the commit in flight when the process died, and a
 * late timer on a loaded machine. Far below a trial's length (4 intervals + up to 800 ms), so a
 * timer that never fired (which loses the whole trial) fails the bound.
 */
const SLACK_MS = 400;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe('crash under load (kill -9)', () => {
  it('keeps every resolved commit, never part of a batch, and loses at most one interval (plus the commit in flight) of auto-committed updates', { timeout: 240_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'oaas-crash-'));
    const windows = new Map<number, number[]>(INTERVALS.map((i) => [i, []]));
    const lostCounts = new Map<number, number[]>(INTERVALS.map((i) => [i, []]));
    let checked = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const interval = INTERVALS[trial % INTERVALS.length]!;
      const path = join(dir, `crash-${interval}.db`);
      const child = new TsChild(writer, [path, String(interval), 'crash']);
      try {
        await child.waitFor((line) => line === 'ready', 30_000);
        // A random moment, long enough for several auto-commit intervals to pass.
        await sleep(4 * interval + Math.floor(Math.random() * 800));
      } finally {
        child.signal('SIGKILL');
      }
      const [, signal] = await child.exit();
      expect(signal, child.stderr).toBe('SIGKILL');
      expect(child.lines.filter((l) => l.startsWith('error'))).toEqual([]);
      const log = parseWriterLog(child.lines);
      const stored = await readStored(path);
      expect(integrityCheck(path)).toBe('ok');

      // Every commit that resolved is there; at most one more (committed, killed before it printed).
      stored.acked.forEach((value, k) => {
        expect(value).toBeGreaterThanOrEqual(log.acked[k]!);
        expect(value).toBeLessThanOrEqual(log.acked[k]! + 1);
      });
      // A scope is one transaction, and so is a session's commit: no torn batch.
      expect(new Set(stored.scope).size, `scope ${stored.scope.join(',')}`).toBe(1);
      expect(stored.scope[0]).toBeGreaterThanOrEqual(log.scope);
      expect(stored.scope[0]).toBeLessThanOrEqual(log.scope + 1);
      expect(stored.pair[0], `pair ${stored.pair.join(',')}`).toBe(stored.pair[1]);
      expect(stored.pair[0]).toBeLessThanOrEqual(log.pair + 1);

      // Auto-committed updates: those since the last background commit are lost; measure how many, and over how long.
      const lastAuto = log.auto.at(-1)!;
      expect(stored.auto).toBeLessThanOrEqual(lastAuto.balance + 1);
      const lost = Math.max(0, lastAuto.balance - stored.auto);
      const firstLost = log.auto.find((u) => u.balance === stored.auto + 1);
      const windowMs = lost === 0 || firstLost === undefined ? 0 : lastAuto.at - firstLost.at;
      windows.get(interval)!.push(windowMs);
      lostCounts.get(interval)!.push(lost);
      checked += log.updates;
    }
    for (const interval of INTERVALS) {
      const w = windows.get(interval)!;
      const l = lostCounts.get(interval)!;
      console.log(
        `kill -9, auto-commit ${interval} ms: ${w.length} trials; un-committed auto updates lost per trial: median ${median(l)}, max ${Math.max(...l)}; ` +
          `loss window median ${median(w)} ms, max ${Math.max(...w)} ms (${(median(w) / interval).toFixed(2)}x the interval)`,
      );
      // Only updates since the last background commit are lost, in every trial.
      expect(Math.max(...w), `loss windows ${w.join(', ')} ms`).toBeLessThanOrEqual(interval + SLACK_MS);
      expect(median(w)).toBeLessThanOrEqual(interval + SLACK_MS / 2);
    }
    expect(checked, 'the writer made progress').toBeGreaterThan(TRIALS * 10);
    console.log(`kill -9: ${TRIALS} trials, ${checked} updates checked, 0 resolved commits lost, 0 torn batches`);
  });
});
