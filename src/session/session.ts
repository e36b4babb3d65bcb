import type { Logger } from 'pino';
import type { ObjectIdentity, VersionConflict } from '../errors.js';
import type { ObjectCore, PendingOwner } from '../object/object-core.js';

/** What one commit wrote. */
export interface CommitResult {
  readonly sessionId: string;
  /** Objects written (created, changed or deleted). */
  readonly committed: readonly ObjectIdentity[];
  /** Objects left pending because another context held them (auto-commit only). */
  readonly deferred: readonly ObjectIdentity[];
}

/**
 * A unit of work: the objects changed in one async context (or through one
 * legacy adapter, or inside one scope) since its last commit.
 */
export interface Session {
  readonly id: string;
  /** Partition of objects created through this session without one. */
  readonly partitionId: number;
  /** How many objects have changes waiting for a commit. */
  readonly pendingCount: number;
  /** Writes every pending change in one store transaction. */
  commit(): Promise<CommitResult>;
}

/** What a session needs from the runtime. */
export interface SessionHost {
  readonly logger: Logger;
  commitSession(session: ManagedSession): Promise<CommitResult>;
  /** Called when an object starts (true) or stops (false) waiting for a commit. */
  objectPending(core: ObjectCore, pending: boolean): void;
  /** Called when another unit of work's conflict reload dropped this session's changes to an object. */
  changesDiscarded(session: ManagedSession, conflict: VersionConflict, cause?: Error): void;
  /** Called when a session gains its first, or loses its last, pending object. */
  pendingChanged(session: ManagedSession, hasPending: boolean): void;
}

/** Which kind of unit of work a session is. */
export type SessionKind = 'context' | 'scope' | 'manual';

let counter = 0;
/** Told apart from the ids of earlier runs of the process by its start time, computed once (a clock read and a conversion cost more than the rest of a session). */
const RUN_TAG = Date.now().toString(36);

/** The runtime's session: the set of objects it will commit. */
export class ManagedSession implements Session, PendingOwner {
  readonly id: string;
  /** Objects this session will commit. Change it only through {@link track} and {@link forget}: `core.lastOwner` relies on it. */
  readonly pending = new Set<ObjectCore>();
  /** Set once the session can no longer take objects (its scope ended). */
  closed = false;
  /** Changes of this session dropped by a conflict reload that another unit of work made; reported by the next commit. */
  private lost: VersionConflict[] | undefined;
  /** Objects a manual session always considers at commit: everything created or loaded through it (made on first use: other sessions have none). */
  private watchedSet: Set<ObjectCore> | undefined;
  private childLogger: Logger | undefined;

  constructor(
    private readonly host: SessionHost,
    readonly partitionId: number,
    readonly kind: SessionKind,
    readonly runtimeId: number,
  ) {
    counter += 1;
    this.id = `s${counter.toString(36)}-${RUN_TAG}`;
  }

  /** The runtime's logger bound to this session (`{ session: id }`), made on first use: most sessions never log. */
  get logger(): Logger {
    return (this.childLogger ??= this.host.logger.child({ session: this.id }));
  }

  get pendingCount(): number {
    let n = 0;
    for (const core of this.pending) if (core.hasPendingChanges) n += 1;
    return n;
  }

  /** Adds an object to this session's pending set. */
  track(core: ObjectCore): void {
    // `lastOwner` is this session only while the object is in `pending`: with many live objects the field is a cheaper check than the set.
    if (core.lastOwner === this) return;
    core.lastOwner = this;
    if (this.pending.has(core)) return;
    this.pending.add(core);
    if (core.addOwner(this)) this.host.objectPending(core, true);
    if (this.pending.size === 1 && this.kind !== 'scope') this.host.pendingChanged(this, true);
  }

  forget(core: ObjectCore): void {
    if (core.lastOwner === this) core.lastOwner = undefined;
    if (!this.pending.delete(core)) return;
    if (core.removeOwner(this)) this.host.objectPending(core, false);
    if (this.pending.size === 0 && this.kind !== 'scope') this.host.pendingChanged(this, false);
  }

  discarded(core: ObjectCore, expected: number, actual: number, cause?: Error): void {
    const conflict = { ref: core.key, expected, actual };
    (this.lost ??= []).push(conflict);
    this.host.changesDiscarded(this, conflict, cause);
  }

  /** The conflicts that dropped changes of this session since the last call, if any. */
  takeLost(): VersionConflict[] | undefined {
    const lost = this.lost;
    this.lost = undefined;
    return lost;
  }

  /** Makes a manual session consider `core` at every commit. */
  watch(core: ObjectCore): void {
    (this.watchedSet ??= new Set()).add(core);
  }

  /** What a commit of this session looks at. */
  candidates(): ObjectCore[] {
    const watched = this.watchedSet;
    if (watched === undefined || watched.size === 0) return [...this.pending];
    return [...new Set([...this.pending, ...watched])];
  }

  commit(): Promise<CommitResult> {
    return this.host.commitSession(this);
  }
}

/** Removes an object from every session that would commit it. */
export function forgetEverywhere(core: ObjectCore): void {
  // Usually one owner: no list made (forget() removes it).
  const sole = core.soleOwner;
  if (sole !== undefined) return sole.forget(core);
  for (const owner of core.owners) owner.forget(core);
}
