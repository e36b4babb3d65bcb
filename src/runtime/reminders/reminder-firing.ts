import { backoffDelay } from '../../backoff.js';
import { MethodNotFoundError, ObjectNotFoundError, formatIdentity } from '../../errors.js';
import { isContention } from '../contention.js';
import { loadFresh, WAKE_SCOPE_RETRIES, type WakeWorkParts } from '../wake-work.js';
import type { ObjectKey } from '../../identity.js';
import { ObjectRef } from '../../object/object-ref.js';
import { toStateValue } from '../../object/codec.js';
import { afterFiring, dueReminders, replaced, type Reminder } from '../../object/reminders.js';
import type { ClassMeta } from '../../registry/class-meta.js';
import type { ReminderErrorEvent } from './reminder-reports.js';

/** What firing needs from the runtime. */
export type ReminderFiringParts = WakeWorkParts<ReminderErrorEvent>;

/**
 * What one attempt at an object's earliest due reminder came to; `busy`:
 * it met other writers (or the runtime closing) and stays due as it was,
 * since contention is no failure of the reminder's method.
 */
export type FiringOutcome = 'fired' | 'failed' | 'busy' | 'none';

/** The figures of firing. */
export interface FiringCounts {
  fired: number;
  failed: number;
  dropped: number;
}

/**
 * Fires reminders: each firing is one root scope that loads the object
 * fresh, takes the reminder off (or moves a repeating one to its next
 * period) and calls its method, so the store sees the method's changes and
 * the reminder's advance in one transaction, or neither. A firing that
 * throws is rolled back whole; the failure is then counted on the reminder
 * in a scope of its own, which sets the retry's time.
 */
export class ReminderFiring {
  readonly counts: FiringCounts = { fired: 0, failed: 0, dropped: 0 };

  constructor(private readonly parts: ReminderFiringParts) {}

  /** Fires the object's earliest due reminder, if it still has one. */
  async fireNext(meta: ClassMeta, key: ObjectKey): Promise<FiringOutcome> {
    let fired: Reminder | undefined;
    try {
      await this.parts.scope(async () => {
        fired = undefined;
        const core = await loadFresh(this.parts.load, meta, key);
        // Cluster mode: the object moved to another process since it was found due; its owner fires it.
        if (core.remote) return;
        const now = this.parts.clock.now();
        const [reminder] = dueReminders(core.reminders, now);
        if (reminder === undefined) return;
        fired = reminder;
        core.writeReminders(replaced(core.reminders ?? [], reminder.name, afterFiring(reminder, now)));
        const method = meta.methodsByName.get(reminder.method);
        if (method === undefined || method.streaming) throw new MethodNotFoundError(meta.clsId, reminder.method);
        // A copy: the method may change its arguments without changing the stored reminder.
        const args = toStateValue(reminder.args, core.location(`reminder ${reminder.name} args`)) as unknown[];
        await core.host.invoke(core, method, args);
      }, { partitionId: key.partitionId, retries: WAKE_SCOPE_RETRIES });
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return 'none';
      if (fired === undefined) throw error;
      if (isContention(error)) {
        this.parts.logger.info({ object: formatIdentity(key), reminder: fired.name, err: error }, 'a reminder met other writers; it stays due and is fired again');
        return 'busy';
      }
      await this.failed(meta, key, fired, error as Error);
      return 'failed';
    }
    if (fired === undefined) return 'none';
    this.counts.fired += 1;
    return 'fired';
  }

  /**
   * Counts a failed firing on the reminder: it is tried again after a
   * back-off, or given up after `maxAttempts` (a one-off is removed, a
   * repeating one moves on to its next period). Reported and logged either way.
   */
  private async failed(meta: ClassMeta, key: ObjectKey, fired: Reminder, error: Error): Promise<void> {
    const { config, clock, logger } = this.parts;
    const attempt = fired.attempts + 1;
    const dropped = attempt >= config.maxAttempts;
    const now = clock.now();
    const retryAt = dropped ? undefined : now + backoffDelay(attempt, config.retryBaseMs, config.retryCapMs);
    this.counts.failed += 1;
    if (dropped) this.counts.dropped += 1;
    const where = { object: formatIdentity(key), reminder: fired.name, method: fired.method, attempt, err: error };
    if (dropped) logger.error(where, `reminder failed ${attempt} times and is given up`);
    else logger.warn({ ...where, retryAt: new Date(retryAt!).toISOString() }, 'reminder failed; it is tried again');
    try {
      await this.parts.scope(async () => {
        const core = await loadFresh(this.parts.load, meta, key);
        const current = core.reminders?.find((r) => r.name === fired.name);
        // Replaced, removed or fired meanwhile: the failure no longer concerns what the object holds.
        if (current === undefined || current.due !== fired.due) return;
        const next = dropped ? afterFiring(current, now) : { ...current, attempts: attempt, due: retryAt! };
        core.writeReminders(replaced(core.reminders ?? [], current.name, next));
      }, { partitionId: key.partitionId, retries: WAKE_SCOPE_RETRIES });
    } catch (bookkeeping) {
      // The reminder stays due as it was: the next look for due reminders fires it again.
      if (!(bookkeeping instanceof ObjectNotFoundError)) logger.error({ object: formatIdentity(key), reminder: fired.name, err: bookkeeping }, 'recording a failed reminder failed; it stays due');
    }
    this.parts.reports.emit({
      error,
      ref: new ObjectRef(key.clsId, key.partitionId, key.objectId),
      name: fired.name,
      method: fired.method,
      attempt,
      retryAt: retryAt === undefined ? undefined : new Date(retryAt),
      dropped,
    });
  }
}

