import type { Logger } from 'pino';
import { AlreadyExistsError, ConflictError, InvalidArgumentError, type ObjectIdentity } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import { backoffDelay } from '../session/backoff.js';
import type { ManagedSession } from '../session/session.js';
import { formatRef, pendingRefs, toRef } from './pending-report.js';
import type { CommitErrorEvent, CommitErrorListener } from './runtime-types.js';

const MAX_BACKOFF_MS = 30_000;

/** What the background commit needs from the runtime. */
export interface BackgroundCommitHost {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  isOpen(): boolean;
  /** Sessions with pending changes, as they stand now. */
  pendingSessions(): readonly ManagedSession[];
  /** Commits what a session has pending, skipping objects other contexts hold. */
  commit(session: ManagedSession): Promise<unknown>;
  /** Replaces stale live objects with their stored state; returns those reloaded. */
  reloadObjects(refs: readonly ObjectIdentity[], reporter: ManagedSession): Promise<ObjectIdentity[]>;
  /** The auto-commit interval, the base of the back-off. */
  interval(): number;
}

/**
 * The write-behind half of the runtime: one tick commits every session whose
 * back-off has elapsed, each in its own transaction. A failure keeps the
 * changes pending and schedules the session again (exponential, capped); a
 * conflict reloads the stale objects, since retrying cannot succeed, and
 * keeps the rest. Every failure reaches the `onCommitError` listeners.
 */
export class BackgroundCommits {
  private readonly listeners = new Set<CommitErrorListener>();

  constructor(private readonly host: BackgroundCommitHost) {}

  /** Subscribes to background commit failures; returns the unsubscribe function. */
  onCommitError(listener: CommitErrorListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'expected a function');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** One round of the timer; never rejects. */
  async tick(): Promise<void> {
    const now = Date.now();
    for (const session of this.host.pendingSessions()) {
      if (!this.host.isOpen()) return;
      if (session.retryAt > now) continue;
      try {
        await this.host.commit(session);
        session.failures = 0;
        session.retryAt = 0;
      } catch (error) {
        await this.failed(session, error);
      }
    }
  }

  private async failed(session: ManagedSession, error: unknown): Promise<void> {
    const refs = pendingRefs(session);
    let discarded: ObjectIdentity[] = [];
    if (error instanceof ConflictError || error instanceof AlreadyExistsError) {
      // The store holds newer state: retrying cannot succeed. Reload those objects, keep the rest pending.
      const stale = error instanceof ConflictError ? error.conflicts.map((c) => c.ref) : error.refs;
      try {
        discarded = await this.host.reloadObjects(stale, session);
      } catch (reloadError) {
        session.logger.error({ err: reloadError }, 'reloading conflicting objects failed');
      }
      if (discarded.length > 0) {
        session.logger.warn({ discarded: discarded.map(formatRef) }, 'stale objects reloaded from the store; their pending changes were discarded');
      }
    } else {
      session.failures += 1;
      const interval = this.host.interval();
      const delay = Math.max(interval, backoffDelay(session.failures, interval, MAX_BACKOFF_MS));
      session.retryAt = Date.now() + delay;
      this.host.telemetry.retry('background');
      session.logger.warn({ objects: refs.map(formatRef), attempt: session.failures, retryInMs: delay }, 'commit will be retried');
    }
    this.report({ error: error as Error, sessionId: session.id, refs, willRetry: true, discarded: discarded.map(toRef), source: 'background' });
  }

  /** Tells the listeners (the failure itself was logged where it happened). */
  report(event: CommitErrorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (listenerError) {
        this.host.logger.error({ err: listenerError }, 'onCommitError listener threw');
      }
    }
  }
}
