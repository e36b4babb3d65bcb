import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Account, Counter } from '../support/services.js';

shutdownAfterEach();

describe('SQLite durability', () => {
  it('keeps every resolved commit, and never part of one, across kill -9', { timeout: 60_000 }, async () => {
    const store = tempSqlite();
    const path = store.slice('sqlite:'.length);
    let checked = 0;
    for (let trial = 0; trial < 5; trial++) {
      const child = new TsChild(new URL('../fixtures/crash-writer.ts', import.meta.url), [path]);
      await child.waitFor((line) => line === 'ready');
      await sleep(100 + Math.floor(Math.random() * 300));
      child.signal('SIGKILL');
      const [, signal] = await child.exit();
      expect(signal).toBe('SIGKILL');
      const acknowledged = child.lines.filter((l) => /^\d+$/.test(l)).map(Number);
      const last = acknowledged.at(-1) ?? 0;

      await freshRuntime({ store });
      const count = (await Counter.load('k')).count;
      const balances = await Promise.all(['a', 'b', 'c'].map(async (id) => (await Account.load(id)).balance));
      // Every acknowledged scope is there; at most one more (committed but killed before it printed).
      expect(count).toBeGreaterThanOrEqual(last);
      expect(count).toBeLessThanOrEqual(last + 1);
      // One scope is one transaction: all four objects moved together.
      expect(balances).toEqual([count, count, count]);
      checked += acknowledged.length;
    }
    console.log(`kill -9: 5 trials, ${checked} acknowledged scopes checked, 0 lost`);
    expect(checked).toBeGreaterThan(0);
  });
});
