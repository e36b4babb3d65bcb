import type { Logger } from 'pino';
import { CommitError, InvalidArgumentError, type ObjectIdentity } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import { backoffDelay } from '../backoff.js';
import type { CommitPipeline } from '../session/commit-pipeline.js';
import type { IdentityMap } from '../session/identity-map.js';
import type { Store } from '../stores/store.js';
import type { AutoCommitScheduler } from './auto-commit-scheduler.js';
import { sleep, type Clock } from '../clock.js';
import type { CommitReports } from './commit-reports.js';
import type { Commits } from './commits.js';
import type { ObjectAccess } from './object-access.js';
import type { PendingWork } from './pending-work.js';
import { allTransient, conflictCause, fencedIn, formatRef, staleRefsOf, toRef } from './pending-report.js';
import type { RunState } from './run-state.js';
import type { ShutdownOptions } from './runtime-types.js';

const MAX_BACKOFF_MS = 30_000;
const EXIT_FLUSH_ATTEMPTS = 3;
/** How many times the shutdown flush reloads conflicting objects and flushes the rest again. */
const SHUTDOWN_CONFLICT_ROUNDS = 3;

/** What shutting down works with. */
export interface ShutdownParts {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly run: RunState;
  readonly scheduler: AutoCommitScheduler;
  readonly pipeline: CommitPipeline;
  readonly commits: Commits;
  readonly pending: PendingWork;
  readonly objects: ObjectAccess;
  readonly identity: IdentityMap;
  readonly reports: CommitReports;
  readonly store: Promise<Store>;
  /** What the deadline and the retry back-off are measured on. */
  readonly clock: Clock;
  /** Cluster mode: the member that hands everything over once the flush is done. */
  readonly cluster?: { beginLeaving(): void; leave(): Promise<void> } | undefined;
  /** Stops firing reminders (a firing in progress is a scope, which the wait for running work covers). */
  readonly reminders: { stop(): Promise<void> };
}

/**
 * The end of a runtime: `shutdown()` (stop the timer, let running work
 * finish, flush, close the store) and the flush at natural exit.
 */
export class Shutdown {
  private closing: Promise<void> | undefined;
  private exitFlushes = 0;
  private readonly onBeforeExit = (): void => {
    this.flushAtExit();
  };

  constructor(private readonly parts: ShutdownParts) {
    process.on('beforeExit', this.onBeforeExit);
  }

  /** Idempotent; rejects with `CommitError` listing what is not persisted. */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(new InvalidArgumentError('options', 'expected an object'));
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(new InvalidArgumentError('timeoutMs', `expected a number >= 0, got ${String(timeoutMs)}`));
    }
    this.closing ??= this.closeDown(timeoutMs);
    return this.closing;
  }

  private async closeDown(timeoutMs: number): Promise<void> {
    const { run, scheduler, pipeline, clock } = this.parts;
    const deadline = clock.now() + timeoutMs;
    run.beginClosing();
    // New calls go to the other members from now on; what runs here finishes and is flushed first.
    this.parts.cluster?.beginLeaving();
    scheduler.stop();
    // No new firing starts; one in progress is a scope, which the bounded wait below covers.
    void this.parts.reminders.stop();
    process.off('beforeExit', this.onBeforeExit);
    await run.waitForIdle(deadline, clock);
    await scheduler.idle();
    const failure = await this.flush(deadline);
    await pipeline.drain();
    // Only after the flush: the slots pass on with everything this process acknowledged in the store.
    await this.parts.cluster?.leave();
    run.markClosed();
    // A store that never opened has nothing to close; its open error went to whoever awaited it.
    const store = await this.parts.store.catch(() => undefined);
    try {
      await store?.close();
    } catch (error) {
      this.parts.logger.warn({ err: error }, 'closing the store failed');
    }
    this.parts.identity.clear();
    this.parts.telemetry.close();
    if (failure !== undefined) throw failure;
  }

  /**
   * The shutdown flush, bounded by `deadline`: transient failures are retried
   * with back-off; a conflict (the store holds newer state, so no retry can
   * succeed) reloads those objects at once, as the background commit does,
   * and the rest is flushed again. Returns the `CommitError` to reject with
   * (listing what was not persisted, discarded changes included), if any;
   * what it leaves reaches the `onCommitError` listeners once.
   */
  private async flush(deadline: number): Promise<CommitError | undefined> {
    const { commits, objects, logger, scheduler, clock } = this.parts;
    const discarded: ObjectIdentity[] = [];
    let failure: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        await commits.commitAll('shutdown');
        failure = undefined;
        break;
      } catch (error) {
        failure = error;
        // A fenced batch's objects were dropped (and reported) with their slots: flush the rest again.
        if (fencedIn(error) && attempt <= SHUTDOWN_CONFLICT_ROUNDS) continue;
        const stale = staleRefsOf(error);
        if (stale.length > 0 && attempt <= SHUTDOWN_CONFLICT_ROUNDS) {
          const reloaded = await objects.reloadObjects(stale, undefined, 'all');
          discarded.push(...reloaded);
          if (reloaded.length > 0) {
            logger.warn({ discarded: reloaded.map(formatRef) }, 'stale objects reloaded from the store at shutdown; their pending changes were discarded');
            continue;
          }
        }
        const wait = backoffDelay(attempt, scheduler.interval, MAX_BACKOFF_MS);
        if (!allTransient(error) || clock.now() + wait > deadline) break;
        await sleep(clock, wait);
      }
    }
    return this.outcome(failure, discarded);
  }

  private outcome(failure: unknown, discarded: readonly ObjectIdentity[]): CommitError | undefined {
    const { reports } = this.parts;
    const pending = failure instanceof CommitError ? failure.unpersisted : [];
    if (discarded.length > 0) {
      const refs = discarded.map(toRef);
      reports.emit({ error: conflictCause(failure, discarded), sessionId: '*', refs, willRetry: false, discarded: refs, source: 'shutdown' });
    }
    if (failure !== undefined) {
      reports.emit({ error: failure as Error, sessionId: '*', refs: pending.map((u) => toRef(u.ref)), willRetry: false, discarded: [], source: 'shutdown' });
    }
    if (failure === undefined && discarded.length === 0) return undefined;
    const unpersisted = [...discarded.map((ref) => ({ ref, fields: ['<discarded: the store holds a newer version>'] })), ...pending];
    const failures = failure instanceof CommitError ? failure.failures : failure === undefined ? [] : [failure];
    return new CommitError(
      `shutdown could not persist ${unpersisted.length} objects` +
        (discarded.length > 0 ? `; ${discarded.length} conflicted with newer stored versions and their changes were discarded` : '') +
        (failure instanceof Error ? `: ${failure.message}` : ''),
      { unpersisted, failures },
      failure === undefined ? undefined : { cause: failure },
    );
  }

  /** Natural exit: flush what is pending (the flush keeps the loop alive, so this runs again after it). */
  private flushAtExit(): void {
    const { run, pending, commits, logger, reports } = this.parts;
    if (!run.isOpen || pending.sessionCount === 0) return;
    if (this.exitFlushes >= EXIT_FLUSH_ATTEMPTS) return;
    this.exitFlushes += 1;
    // Each failed session reaches the listeners from its commit (source 'exit'); the last attempt reports once, saying it will not retry.
    const last = this.exitFlushes >= EXIT_FLUSH_ATTEMPTS;
    commits.commitAll(last ? 'shutdown' : 'exit').then(
      () => {
        this.exitFlushes = 0;
      },
      (error: unknown) => {
        logger.error({ err: error, attempt: this.exitFlushes }, 'flush at exit failed');
        if (last) {
          const refs = error instanceof CommitError ? error.unpersisted.map((u) => toRef(u.ref)) : [];
          reports.emit({ error: error as Error, sessionId: '*', refs, willRetry: false, discarded: [], source: 'exit' });
        }
      },
    );
  }
}
