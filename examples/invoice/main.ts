/**
 * Reminders: an invoice that, once issued, sends a payment reminder every
 * second and charges the card once, a few seconds later. (Real invoices use
 * days; the demo's times are short so that it ends by itself in about five
 * seconds.)
 *
 *     npx tsx examples/invoice/main.ts
 *
 * It runs on the embedded SQLite store, in a file of a fresh temporary
 * folder. Half-way, the runtime is shut down and a new one is started on the
 * same file, as after a restart: the reminders are state, so the new runtime
 * finds them and carries on. The card is declined once: the failed firing is
 * rolled back, reported to `onReminderError`, and retried after a back-off.
 * An audit log is fed by triggers: the invoice's creation, each change of
 * its status and each failed charge are recorded by the commits that cause
 * them and delivered to the log once. See docs/reminders.md and
 * docs/triggers.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OaasObject, commitAll, configureOaas, field, method, onReminderError, service, shutdown, type OaasConfig, type TriggerEvent } from '../../src/index.js';

const REMIND_EVERY_MS = 1000;
const CHARGE_IN_MS = 3500;
const started = Date.now();
const elapsed = (): string => `+${((Date.now() - started) / 1000).toFixed(1)}s`;

/**
 * A payment service outside the store, so outside the transaction: a firing
 * that fails or runs twice can call it again. It keeps the idempotency keys
 * it has seen, as real payment services do, so a repeated charge is not
 * charged twice. It declines the first attempt, to show a retry.
 */
const payments = {
  declinesLeft: 1,
  receipts: new Map<string, string>(),
  async charge(idempotencyKey: string, cents: number): Promise<string> {
    const earlier = this.receipts.get(idempotencyKey);
    if (earlier !== undefined) return earlier;
    if (this.declinesLeft > 0) {
      this.declinesLeft -= 1;
      throw new Error('card declined');
    }
    const receipt = `rcpt-${this.receipts.size + 1}: ${(cents / 100).toFixed(2)} EUR`;
    this.receipts.set(idempotencyKey, receipt);
    return receipt;
  },
};

/** Every invoice's history, fed by triggers: each entry arrives once, after the commit that caused it. */
@service('AuditLog', { package: 'invoice_example' })
class AuditLog extends OaasObject {
  entries: string[] = [];

  @method()
  async record(event: TriggerEvent): Promise<void> {
    const what = event.kind === 'error' ? `${event.method} failed: ${event.error?.message ?? ''}` : event.kind === 'update' ? `update of ${event.changed?.join(', ') ?? ''}` : event.kind;
    this.entries.push(`${event.source.objectId} v${event.version} ${what}`);
  }
}

const audit = { cls: () => AuditLog, method: 'record', objectId: 'audit' };

@service('Invoice', { package: 'invoice_example', onCreate: [audit] })
class Invoice extends OaasObject {
  @field({ onUpdate: [audit] }) status: 'draft' | 'issued' | 'paid' | 'charged' = 'draft';
  cents = 0;
  remindersSent = 0;
  receipt = '';

  @method()
  async issue(cents: number): Promise<void> {
    this.status = 'issued';
    this.cents = cents;
    // Saved by the commit of this call, with the status: if issue() threw, neither would be.
    this.schedule('remind', { everyMs: REMIND_EVERY_MS, name: 'payment-reminder' });
    this.schedule('charge', { inMs: CHARGE_IN_MS });
  }

  @method()
  async remind(): Promise<void> {
    this.remindersSent += 1;
    // An email would go here. It is outside the store, so it could be sent again if this firing
    // were retried: the key (the same for every run of this firing) lets the mail service drop repeats.
    console.log(`${elapsed()} ${this.id}: payment reminder #${this.remindersSent} sent (key ${this.id}-reminder-${this.remindersSent})`);
  }

  @method({ onError: [audit] })
  async charge(): Promise<void> {
    // Throws when the card is declined: this firing is then rolled back and retried.
    this.receipt = await payments.charge(`${this.id}-charge`, this.cents);
    this.status = 'charged';
    // In the same commit as the charge: no reminder is sent for a charged invoice.
    this.unschedule('payment-reminder');
    console.log(`${elapsed()} ${this.id}: charged, ${this.receipt}; reminders stopped`);
  }

  @method()
  async pay(): Promise<void> {
    this.status = 'paid';
    this.unschedule('payment-reminder');
    this.unschedule('charge');
  }
}

function describeSchedules(invoice: Invoice): string {
  const list = invoice.schedules.map((r) => (r.everyMs === undefined ? `${r.name} at +${r.due.getTime() - Date.now()} ms` : `${r.name} every ${r.everyMs} ms`));
  return list.length === 0 ? 'no reminders' : list.join(', ');
}

/** Waits until `done()`, failing after `timeoutMs`. */
async function until(done: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const folder = mkdtempSync(join(tmpdir(), 'oaas-invoice-'));
const config: OaasConfig = {
  store: `sqlite:${join(folder, 'state.db')}`,
  logLevel: 'error',
  // Short for the demo; the defaults are 1 s between polls and retries from 1 s up to 60 s.
  reminders: { pollIntervalMs: 100, retryBaseMs: 500, maxAttempts: 3 },
};

function reportFailures(): void {
  onReminderError((event) => {
    const next = event.dropped ? 'given up' : `retried at +${event.retryAt!.getTime() - Date.now()} ms`;
    console.log(`${elapsed()} ${event.ref.objectId}: ${event.name} failed (attempt ${event.attempt}: ${event.error.message}); ${next}`);
  });
}

try {
  await configureOaas(config);
  reportFailures();

  AuditLog.create({}, { id: 'audit' });
  const first = Invoice.create({}, { id: 'inv-1' });
  await first.issue(12_500);
  console.log(`${elapsed()} inv-1 issued: ${describeSchedules(first)}`);

  const second = Invoice.create({}, { id: 'inv-2' });
  await second.issue(4_000);
  await second.pay();
  console.log(`${elapsed()} inv-2 issued and paid at once: ${describeSchedules(second)}`);
  // Reminders reach the store with the commit of the call that set them (auto-commit would write it within a second).
  await commitAll();

  await until(() => first.remindersSent >= 1, 'the first reminder');

  // A restart: the runtime flushes and closes the store; a new one opens the same file.
  await shutdown();
  console.log(`${elapsed()} restarted on the same file`);
  await configureOaas(config);
  reportFailures();
  const reloaded = await Invoice.load('inv-1');
  console.log(`${elapsed()} inv-1 after the restart: ${reloaded.status}, ${describeSchedules(reloaded)}`);

  await until(() => reloaded.status === 'charged', 'the charge');
  const sentBefore = reloaded.remindersSent;
  // Another period and a half: a charged invoice gets no reminder.
  await new Promise((resolve) => setTimeout(resolve, 1.5 * REMIND_EVERY_MS));
  const other = await Invoice.load('inv-2');
  // inv-1: created, charge failed, charged; inv-2: created (issued and paid before its first commit, so no update).
  const log = await AuditLog.load('audit');
  await until(() => log.entries.length >= 4, 'the audit log');
  for (const entry of log.entries) console.log(`${elapsed()} audit: ${entry}`);
  console.log(
    `${elapsed()} done: inv-1 ${reloaded.status} (${reloaded.receipt}), ${reloaded.remindersSent} reminders (${reloaded.remindersSent - sentBefore} after the charge), ${describeSchedules(reloaded)}; ` +
      `inv-2 ${other.status}, ${other.remindersSent} reminders`,
  );
  await shutdown();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
  await shutdown().catch(() => undefined);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
