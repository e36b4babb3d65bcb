/** The shapes the runtime's public methods take and return. */
import type { ClusterStats } from '../observability/telemetry.js';
import type { ObjectRef } from '../object/object-ref.js';
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

/**
 * Which commit failed: the write-behind timer's (`background`), one the
 * application asked for (`explicit`: `session.commit()`, `commitAll()`,
 * `LegacySessionAdapter.commit()`), the flush of `shutdown()` (`shutdown`)
 * or the flush at natural exit (`exit`).
 */
export type CommitSource = 'background' | 'explicit' | 'shutdown' | 'exit';

/** A failed commit, as `onCommitError` listeners receive it. */
export interface CommitErrorEvent {
  readonly error: Error;
  /** The session whose commit failed; `'*'` for a report about the whole flush of shutdown or exit. */
  readonly sessionId: string;
  /** Objects the failed commit was writing (refs print as `cls/partition/id`). */
  readonly refs: readonly ObjectRef[];
  /** True when the changes stay pending and will be tried again. */
  readonly willRetry: boolean;
  /** Objects whose pending changes were dropped because the store holds a newer version (they were reloaded). */
  readonly discarded: readonly ObjectRef[];
  readonly source: CommitSource;
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
  /** Cluster mode: this member, its share and what it forwards and moves. */
  readonly cluster?: ClusterStats | undefined;
}
