import type { Logger } from 'pino';
import { unrefTimer, type Clock } from '../clock.js';
import { ConfigurationError, formatIdentity } from '../errors.js';
import type { ObjectKey } from '../identity.js';
import { findClassMetaById } from '../registry/registry.js';
import { DUE_LIMIT, type DueObject, type Store } from '../stores/store.js';
import type { ReminderStats, TriggerStats } from '../observability/telemetry.js';
import type { ResolvedReminderConfig } from '../reminder-config.js';
import type { ReminderFiring } from './reminders/reminder-firing.js';
import type { TriggerDelivery } from './triggers/trigger-delivery.js';

/** What the service needs. */
export interface WakeServiceParts {
  readonly store: Promise<Store>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: ResolvedReminderConfig;
  readonly firing: ReminderFiring;
  readonly delivery: TriggerDelivery;
  /** Whether the runtime still takes work. */
  isOpen(): boolean;
  /** Cluster mode: whether this process owns the object (only the owner fires). */
  owns?(key: ObjectKey): boolean;
}

/** Deliveries and firings of one object per look: a method that schedules itself at once cannot hold the loop. */
const MAX_FIRINGS_PER_OBJECT = 100;

/**
 * Finds the objects that want attention (trigger events to deliver,
 * reminders due) and has them served: first the object's outbox, then its
 * reminders. It asks the store's wake index (`Store.due`) every
 * `pollIntervalMs`, and sooner when a commit of this process set an earlier
 * wake time, so work set here runs at once and work set elsewhere (or
 * before a restart) within a poll interval. Its timer does not keep the
 * process alive; `stop()` ends it.
 */
export class WakeService {
  private timer: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private sweeping: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private supported: boolean | undefined;
  private lastDue = 0;
  private lastOverdueMs = 0;
  private readonly unknownClasses = new Set<string>();

  constructor(private readonly parts: WakeServiceParts) {}

  /** Begins once the store is open (a store without a wake index never begins). */
  start(): void {
    this.parts.store.then(
      (store) => {
        // Learnt even when this process fires nothing, so that `schedule()` on a store without the index still fails.
        this.supported = store.due !== undefined;
        if (this.supported && this.parts.config.enabled && !this.stopped) this.arm(this.parts.clock.now());
      },
      () => undefined,
    );
  }

  /** Whether the store is known to keep wake times (what `schedule()` needs). */
  get indexed(): boolean {
    return this.supported === true;
  }

  /** Throws when the store is known to keep no wake times, so `schedule()` fails at once rather than never firing. */
  assertSupported(storeName: string): void {
    if (this.supported === false) {
      throw new ConfigurationError('store', `the ${storeName} store has no index of due times, so it cannot keep reminders; use memory, SQLite, PostgreSQL or Redis`);
    }
  }

  /** A commit wrote a wake time: look then, if that is before the next look. */
  wake(at: number): void {
    if (this.stopped || this.supported !== true || !this.parts.config.enabled || at >= this.timerAt) return;
    this.arm(at);
  }

  /** Stops looking and firing; resolves once the sweep in progress has finished (which a hung method can delay without bound). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.parts.clock.clearTimeout(this.timer);
    this.timerAt = Number.POSITIVE_INFINITY;
    await this.sweeping;
  }

  stats(): ReminderStats {
    const { fired, failed, dropped } = this.parts.firing.counts;
    return { due: this.lastDue, overdueMs: this.lastOverdueMs, fired, failed, dropped };
  }

  triggerStats(): TriggerStats {
    return { ...this.parts.delivery.counts };
  }

  private arm(at: number): void {
    const { clock } = this.parts;
    clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = clock.setTimeout(() => {
      this.timerAt = Number.POSITIVE_INFINITY;
      this.look();
    }, Math.max(0, at - clock.now()));
    unrefTimer(this.timer);
  }

  /** Runs one sweep (or marks that another must follow the one running), then sets the next look. */
  private look(): void {
    if (this.stopped) return;
    if (this.sweeping !== undefined) {
      this.again = true;
      return;
    }
    this.sweeping = this.sweep()
      .catch((error: unknown) => {
        // Once stopped, the store may be closing under the sweep: nothing is lost, the next process looks again.
        if (!this.stopped) this.parts.logger.warn({ err: error }, 'looking for due reminders failed; trying again at the next poll');
      })
      .finally(() => {
        this.sweeping = undefined;
        if (this.stopped) return;
        const { clock, config } = this.parts;
        if (this.again) {
          this.again = false;
          this.arm(clock.now());
        } else if (this.timerAt === Number.POSITIVE_INFINITY) this.arm(clock.now() + config.pollIntervalMs);
      });
  }

  private async sweep(): Promise<void> {
    const store = await this.parts.store;
    for (;;) {
      const now = this.parts.clock.now();
      const due = await store.due!(now, { limit: DUE_LIMIT.max });
      this.lastDue = due.length;
      this.lastOverdueMs = due.length === 0 ? 0 : Math.max(0, now - due[0]!.wakeAt);
      let progressed = false;
      for (const object of due) {
        if (this.stopped || !this.parts.isOpen()) return;
        if (await this.fireObject(object)) progressed = true;
      }
      // A full page that moved on: more may be due behind it. Otherwise what is left is for other processes (or has no class here).
      if (!progressed || due.length < DUE_LIMIT.max) return;
    }
  }

  /** Serves what is due on one object; `true` when anything was delivered, fired or failed (its wake time moved). */
  private async fireObject(object: DueObject): Promise<boolean> {
    const { key } = object;
    if (this.parts.owns !== undefined && !this.parts.owns(key)) return false;
    const meta = findClassMetaById(key.clsId);
    if (meta === undefined) {
      if (!this.unknownClasses.has(key.clsId)) {
        this.unknownClasses.add(key.clsId);
        this.parts.logger.warn({ cls: key.clsId, object: formatIdentity(key) }, 'a reminder is due on an object of a class this process does not register; a process that registers it fires it');
      }
      return false;
    }
    let moved = false;
    for (let n = 0; n < MAX_FIRINGS_PER_OBJECT; n++) {
      if (this.stopped || !this.parts.isOpen()) return moved;
      let outcome;
      try {
        outcome = await this.parts.delivery.deliverNext(meta, key);
      } catch (error) {
        this.parts.logger.warn({ object: formatIdentity(key), err: error }, 'delivering trigger events failed before a target ran; they stay due');
        break;
      }
      if (outcome !== 'delivered') break;
      moved = true;
    }
    for (let n = 0; n < MAX_FIRINGS_PER_OBJECT; n++) {
      if (this.stopped || !this.parts.isOpen()) break;
      let outcome;
      try {
        outcome = await this.parts.firing.fireNext(meta, key);
      } catch (error) {
        this.parts.logger.warn({ object: formatIdentity(key), err: error }, 'firing a reminder failed before its method ran; it stays due');
        break;
      }
      if (outcome === 'none') break;
      moved = true;
    }
    return moved;
  }
}
