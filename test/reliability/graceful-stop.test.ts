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
/** Auto-commit intervals tried: short, and long enough that nothing is committed in the background before the signal. */
const INTERVALS = [50, 1000, 60_000];

describe('graceful stop (SIGTERM wired to shutdown())', () => {
  it('loses no update that completed before the process exits', { timeout: 120_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'oaas-sigterm-'));
    let checked = 0;
    for (const [trial, interval] of INTERVALS.entries()) {
      const path = join(dir, `sigterm-${trial}.db`);
      const child = new TsChild(writer, [path, String(interval), 'graceful']);
      try {
        await child.waitFor((line) => line === 'ready', 30_000);
        await sleep(500 + Math.floor(Math.random() * 1000));
      } finally {
        child.signal('SIGTERM');
      }
      const [code] = await child.exit(20_000);
      expect(child.lines.filter((l) => l.startsWith('error') || l.startsWith('shutdown failed')), child.stderr).toEqual([]);
      expect(child.lines).toContain('stopped');
      expect(code).toBe(0);
      const log = parseWriterLog(child.lines);
      const stored = await readStored(path);
      expect(integrityCheck(path)).toBe('ok');

      // Every update that completed is in the store: explicitly committed or not.
      const lost =
        log.acked.reduce((n, value, k) => n + Math.abs(stored.acked[k]! - value), 0) +
        stored.scope.reduce((n, value) => n + Math.abs(value - log.scope), 0) +
        stored.pair.reduce((n, value) => n + Math.abs(value - log.pair), 0) +
        Math.abs(stored.auto - (log.auto.at(-1)?.balance ?? 0));
      expect(stored).toEqual({ acked: log.acked, scope: [log.scope, log.scope, log.scope], pair: [log.pair, log.pair], auto: log.auto.at(-1)?.balance ?? 0 });
      expect(lost).toBe(0);
      checked += log.updates;
      console.log(`SIGTERM, auto-commit ${interval} ms: ${log.updates} updates checked, ${lost} lost`);
    }
    console.log(`SIGTERM: ${INTERVALS.length} trials, ${checked} updates checked, 0 lost`);
  });
});
