import type { Logger } from 'pino';
import { FencedError, type ObjectIdentity } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import { backoffDelay } from '../backoff.js';
import type { CommitPipeline } from '../session/commit-pipeline.js';
import type { ManagedSession } from '../session/session.js';
import type { Clock } from '../clock.js';
import type { CommitReports } from './commit-reports.js';
import { formatRef, pendingRefs, staleRefsOf, toRef } from './pending-report.js';

const MAX_BACKOFF_MS = 30_000;

/** What the background commit works with. */
export interface BackgroundCommitParts {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly pipeline: CommitPipeline;
  readonly reports: CommitReports;
  /** What the back-off is measured on (the scheduler's clock). */
  readonly clock: Clock;
  isOpen(): boolean;
  /** Sessions with pending changes, as they stand now. */
  pendingSessions(): readonly ManagedSession[];
  /** Replaces stale live objects with their stored state (the session reports what it drops); returns those reloaded. */
  reloadObjects(refs: readonly ObjectIdentity[], reporter: ManagedSession): Promise<ObjectIdentity[]>;
  /** The auto-commit interval, the base of the back-off. */
  interval(): number;
}

interface Backoff {
  failures: number;
  retryAt: number;
}

/**
 * The write-behind half of the runtime: one tick commits every session whose
 * back-off has elapsed, each in its own transaction, skipping objects other
 * contexts hold. A failure keeps the changes pending and schedules the
 * session again (exponential, capped); a conflict reloads the stale objects,
 * since retrying cannot succeed, and keeps the rest. Every failure reaches
 * the `onCommitError` listeners.
 */
export class BackgroundCommits {
  /** Consecutive failures per session; weak, so a finished session takes its entry with it. */
  private readonly backoff = new WeakMap<ManagedSession, Backoff>();

  constructor(private readonly parts: BackgroundCommitParts) {}

  /** One round of the timer; never rejects. */
  async tick(): Promise<void> {
    const now = this.parts.clock.now();
    for (const session of this.parts.pendingSessions()) {
      if (!this.parts.isOpen()) return;
      if ((this.backoff.get(session)?.retryAt ?? 0) > now) continue;
      try {
        await this.parts.pipeline.commit({ sessionId: session.id, cores: [...session.pending], chain: undefined, wait: false, background: true, session });
        this.backoff.delete(session);
      } catch (error) {
        await this.failed(session, error);
      }
    }
  }

  /** A commit of `session` succeeded elsewhere (an explicit one): its back-off starts over. */
  reset(session: ManagedSession): void {
    this.backoff.delete(session);
  }

  private async failed(session: ManagedSession, error: unknown): Promise<void> {
    // Its objects in the lost slots were dropped and reported one by one; the rest stays pending for the next tick.
    if (error instanceof FencedError) return;
    const refs = pendingRefs(session);
    let discarded: ObjectIdentity[] = [];
    const stale = staleRefsOf(error);
    if (stale.length > 0) {
      // The store holds newer state: retrying cannot succeed. Reload those objects, keep the rest pending.
      try {
        discarded = await this.parts.reloadObjects(stale, session);
      } catch (reloadError) {
        session.logger.error({ err: reloadError }, 'reloading conflicting objects failed');
      }
      if (discarded.length > 0) {
        session.logger.warn({ discarded: discarded.map(formatRef) }, 'stale objects reloaded from the store; their pending changes were discarded');
      }
    } else {
      const state = this.backoff.get(session) ?? { failures: 0, retryAt: 0 };
      state.failures += 1;
      const interval = this.parts.interval();
      const delay = Math.max(interval, backoffDelay(state.failures, interval, MAX_BACKOFF_MS));
      state.retryAt = this.parts.clock.now() + delay;
      this.backoff.set(session, state);
      this.parts.telemetry.retry('background');
      session.logger.warn({ objects: refs.map(formatRef), attempt: state.failures, retryInMs: delay }, 'commit will be retried');
    }
    this.parts.reports.emit({ error: error as Error, sessionId: session.id, refs, willRetry: true, discarded: discarded.map(toRef), source: 'background' });
  }
}
