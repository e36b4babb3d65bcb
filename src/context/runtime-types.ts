/** The shapes the runtime's public methods take and return. */
import type { ObjectIdentity } from '../errors.js';
import type { CommitResult } from '../session/session.js';

/** What `commitAll()` did. */
export interface CommitSummary {
  /** Sessions that had pending changes. */
  readonly sessions: number;
  /** Objects written. */
  readonly committed: number;
  /** Sessions whose commit failed (their changes stay pending). */
  readonly failed: number;
  readonly results: readonly CommitResult[];
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
  /** How long to wait for running calls and to retry a failing flush. @default 10000 */
  readonly timeoutMs?: number | undefined;
}

/** A background commit failure, as `onCommitError` listeners receive it. */
export interface CommitErrorEvent {
  readonly error: Error;
  readonly sessionId: string;
  /** Objects the failed commit was writing. */
  readonly refs: readonly ObjectIdentity[];
  /** True when the changes stay pending and will be tried again. */
  readonly willRetry: boolean;
  /** Objects whose pending changes were dropped because the store holds a newer version (they were reloaded). */
  readonly discarded: readonly ObjectIdentity[];
}

export type CommitErrorListener = (event: CommitErrorEvent) => void;

/** What `healthCheck()` reports. */
export interface HealthReport {
  /** The runtime is open and its store answered. */
  readonly ok: boolean;
  readonly store: {
    readonly name: string;
    readonly reachable: boolean;
    /** Round trip of one read, in ms. */
    readonly latencyMs: number;
    /** Connection pool use, for stores that pool (PostgreSQL). */
    readonly pool?: { readonly total: number; readonly idle: number; readonly waiting: number } | undefined;
    /** Why the store did not answer. */
    readonly error?: string | undefined;
  };
  /** Objects waiting for a commit. */
  readonly pendingObjects: number;
  /** Age of the oldest change not yet committed, in ms (0 when nothing waits). */
  readonly oldestPendingAgeMs: number;
  readonly pendingSessions: number;
  readonly liveObjects: number;
}
