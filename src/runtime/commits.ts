import { CommitError, ConflictError, FencedError, InvalidArgumentError, type VersionConflict } from '../errors.js';
import { coreOf, type OaasObject } from '../object/oaas-object.js';
import type { ObjectCore } from '../object/object-core.js';
import { currentChain } from '../session/async-context.js';
import type { ChainLink } from '../session/call-chain.js';
import type { CommitPipeline } from '../session/commit-pipeline.js';
import type { CommitResult, ManagedSession, Session } from '../session/session.js';
import type { Isolation } from '../stores/store.js';
import type { CommitReports } from './commit-reports.js';
import type { PendingWork } from './pending-work.js';
import { formatRef, pendingRefs, toRef, unpersistedOf } from './pending-report.js';
import type { RunState } from './run-state.js';
import type { CommitSource, CommitSummary } from './runtime-types.js';
import type { SessionBinding } from './session-binding.js';

/** What explicit commits work with. */
export interface CommitParts {
  readonly pipeline: CommitPipeline;
  readonly pending: PendingWork;
  readonly sessions: SessionBinding;
  readonly run: RunState;
  readonly reports: CommitReports;
  /** True when auto-commit will try a failed session again. */
  autoCommitOn(): boolean;
  /** A session's commit succeeded: the background back-off of it starts over. */
  committed(session: ManagedSession): void;
  /** Cluster mode: resolves when the creations sent to other processes for these instances are stored there. */
  remoteCreations?(cores: readonly ObjectCore[]): Promise<void>;
}

/**
 * The commits the application asks for: a session's, every session's, some
 * objects', a scope's. Each failure keeps its changes pending, rejects, and
 * reaches the `onCommitError` listeners with its source.
 */
export class Commits {
  constructor(private readonly parts: CommitParts) {}

  async commitSession(session: ManagedSession, source: CommitSource = 'explicit'): Promise<CommitResult> {
    this.parts.run.assertNotClosed();
    if (session.kind === 'scope' && !session.closed) {
      throw new InvalidArgumentError('session', 'a sessionScope commits when its function resolves; do not call commit() on its session');
    }
    const lost = session.takeLost();
    // Another unit of work met a conflict on these objects and reloaded them (reported then): this commit cannot pretend they were written.
    if (lost !== undefined) throw new ConflictError(lost);
    let result: CommitResult;
    try {
      result = await this.parts.pipeline.commit({ sessionId: session.id, session, cores: session.candidates(), chain: currentChain(), wait: true });
    } catch (error) {
      // The shutdown flush reports once, at its end. A failed commit wrote nothing, so what is pending is what it was writing.
      // A fenced commit reported what it dropped, object by object, when it dropped it.
      if (source !== 'shutdown' && !(error instanceof FencedError)) {
        const willRetry = source === 'exit' || this.parts.autoCommitOn();
        this.parts.reports.emit({ error: error as Error, sessionId: session.id, refs: pendingRefs(session), willRetry, discarded: [], source });
      }
      throw error;
    }
    this.parts.committed(session);
    return result;
  }

  /** Commits a session (the context's when none is given) and unbinds it from the current context. */
  async cleanupSession(session?: Session): Promise<CommitResult> {
    const target = session === undefined ? this.parts.sessions.contextSession() : this.parts.sessions.own(session);
    const result = await this.commitSession(target);
    this.parts.sessions.unbind(target);
    return result;
  }

  /** Commits the pending changes of these objects now, in one transaction (waiting for turns other contexts hold). */
  async commitObjects(objects: readonly OaasObject[]): Promise<CommitResult> {
    this.parts.run.assertNotClosed();
    const cores = objects.map((o) => coreOf(o));
    await this.parts.remoteCreations?.(cores);
    return this.parts.pipeline.commit({ sessionId: this.parts.sessions.contextSession().id, cores, chain: currentChain(), wait: true });
  }

  /** Commits every session with pending changes; continues past failures and rejects with `CommitError` if any failed. */
  async commitAll(source: CommitSource = 'explicit'): Promise<CommitSummary> {
    this.parts.run.assertNotClosed();
    const sessions = this.parts.pending.sessions();
    const results: CommitResult[] = [];
    const failures: { session: ManagedSession; error: unknown }[] = [];
    for (const session of sessions) {
      try {
        results.push(await this.commitSession(session, source));
      } catch (error) {
        // The commit itself logged the failure (or the lock wait that preceded it is in the CommitError).
        failures.push({ session, error });
      }
    }
    if (failures.length > 0) {
      const first = failures[0]!.error;
      throw new CommitError(
        `${failures.length} of ${sessions.length} sessions failed to commit; what unpersisted lists is still pending: ${(first as Error).message}`,
        { unpersisted: failures.flatMap((f) => unpersistedOf(f.session)), failures: failures.map((f) => f.error) },
        { cause: first },
      );
    }
    return { sessions: sessions.length, committed: results.reduce((n, r) => n + r.committed.length, 0), failed: 0, results };
  }

  commitScope(session: ManagedSession, cores: readonly ObjectCore[], chain: ChainLink, isolation: Isolation | undefined): Promise<CommitResult> {
    return this.parts.pipeline.commit({ sessionId: session.id, cores, chain, wait: true, isolation, session, moveToCaller: true });
  }

  /** Another unit of work's conflict reload dropped `session`'s changes to an object: report it now; its next explicit commit rejects. */
  changesDiscarded(session: ManagedSession, conflict: VersionConflict, cause?: Error): void {
    // A scope's own changes are rolled back and retried by the scope.
    if (session.kind === 'scope') return;
    const ref = toRef(conflict.ref);
    if (cause === undefined) session.logger.warn({ discarded: [formatRef(ref)] }, 'stale object reloaded from the store after a conflict; this session`s pending changes to it were discarded');
    this.parts.reports.emit({ error: cause ?? new ConflictError([conflict]), sessionId: session.id, refs: [ref], willRetry: false, discarded: [ref], source: 'background' });
  }
}
