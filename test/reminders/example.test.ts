// examples/invoice runs as its header says, in a child process: reminders across a restart, a declined charge retried, reminders stopped by the charge.
import { expect, it } from 'vitest';
import { TsChild } from '../support/child.js';

it('examples/invoice sends reminders across a restart, retries the declined charge once, charges once and stops reminding', { timeout: 60_000 }, async () => {
  const child = new TsChild(new URL('../../examples/invoice/main.ts', import.meta.url), []);
  const started = Date.now();
  try {
    const [code] = await child.exit(45_000);
    expect(code, child.stderr).toBe(0);
  } finally {
    child.signal('SIGKILL');
  }
  // It ends by itself, having shut its runtime down (timers of reminders keep no process alive).
  expect(Date.now() - started).toBeLessThan(45_000);
  const lines = child.lines.map((line) => line.replace(/^\+\d+\.\d+s /, ''));
  const at = (pattern: RegExp): number => lines.findIndex((line) => pattern.test(line));

  expect(lines[0]).toMatch(/^inv-1 issued: charge at \+\d+ ms, payment-reminder every 1000 ms$/);
  expect(lines).toContain('inv-2 issued and paid at once: no reminders');

  // The reminders survive the restart: one before it, the others fired by the new runtime from the stored entry.
  const reminders = lines.filter((line) => line.includes('payment reminder #')).map((line) => Number(/#(\d+)/.exec(line)![1]));
  expect(reminders.length).toBeGreaterThanOrEqual(2);
  expect(reminders).toEqual(reminders.map((_, i) => i + 1));
  const restart = at(/^restarted on the same file$/);
  expect(at(/payment reminder #1 /)).toBeLessThan(restart);
  expect(at(/payment reminder #2 /)).toBeGreaterThan(restart);
  expect(lines[restart + 1]).toMatch(/^inv-1 after the restart: issued, charge at \+\d+ ms, payment-reminder every 1000 ms$/);

  // Declined once, reported with its retry, then charged exactly once; no reminder after the charge.
  const failures = lines.filter((line) => line.includes('failed') && !line.startsWith('audit: '));
  expect(failures).toEqual([expect.stringMatching(/^inv-1: charge failed \(attempt 1: card declined\); retried at \+\d+ ms$/)]);
  const charged = lines.filter((line) => line.includes('charged, rcpt'));
  expect(charged).toEqual(['inv-1: charged, rcpt-1: 125.00 EUR; reminders stopped']);
  expect(at(/charge failed/)).toBeLessThan(at(/charged, rcpt/));
  expect(lines.slice(at(/charged, rcpt/)).some((line) => line.includes('payment reminder #'))).toBe(false);

  // The audit log, fed by triggers: each invoice's creation, the failed charge and the change of status, each once.
  const audit = lines.filter((line) => line.startsWith('audit: ')).map((line) => line.replace(/ v\d+ /, ' '));
  expect([...audit].sort()).toEqual(['audit: inv-1 charge failed: card declined', 'audit: inv-1 create', 'audit: inv-1 update of status, receipt', 'audit: inv-2 create'].sort());

  expect(lines.at(-1)).toBe(`done: inv-1 charged (rcpt-1: 125.00 EUR), ${reminders.length} reminders (0 after the charge), no reminders; inv-2 paid, 0 reminders`);
  expect(child.stderr).toBe('');
});
