import { InvalidArgumentError } from '../errors.js';
import { normalizePartitionId } from '../identity.js';
import { promiseOf, rejected } from '../promises.js';
import { boundSlot, currentChain, currentSlot, runWithSession, type SessionSlot } from '../session/async-context.js';
import { ManagedSession, type Session, type SessionHost, type SessionKind } from '../session/session.js';
import type { RunState } from './run-state.js';

/**
 * Makes sessions and binds them to async contexts: each context gets its own
 * session per partition on first use, `runInSession` starts a fresh one, and
 * adapters that own a session run code with it. Counts live sessions (they
 * leave the count when collected).
 */
export class SessionBinding {
  private live = 0;
  private readonly finalizer = new FinalizationRegistry<undefined>(() => {
    this.live -= 1;
  });

  constructor(
    private readonly host: SessionHost,
    private readonly run: RunState,
    private readonly runtimeId: number,
    private readonly defaultPartition: number,
  ) {}

  /** Sessions not yet collected (scope sessions: not yet ended), for the gauges. */
  get liveCount(): number {
    return this.live;
  }

  /** The session of the current async context for a partition, created and bound on first use. */
  contextSession(partitionId?: number): ManagedSession {
    this.run.assertNotClosed();
    return this.sessionIn(currentSlot(), partitionId);
  }

  /** The session `slot` (the current context's) writes into, opened when it has none: {@link contextSession} for a caller that checked the runtime is open. */
  sessionIn(slot: SessionSlot, partitionId?: number): ManagedSession {
    const p = partitionId === undefined ? (slot.primaryPartition ?? this.defaultPartition) : normalizePartitionId(partitionId);
    let session = slot.sessions.get(p);
    if (session === undefined || session.runtimeId !== this.runtimeId || session.closed) {
      session = this.open(p, 'context');
      slot.sessions.set(p, session);
    }
    return session;
  }

  /** Runs `fn` in a fresh session (one per HTTP request, job, message...). */
  runInSession<T>(fn: () => T | Promise<T>): Promise<T> {
    if (typeof fn !== 'function') return rejected(new InvalidArgumentError('fn', 'runInSession expects a function'));
    try {
      this.run.assertAcceptingWork(currentChain());
    } catch (error) {
      return rejected(error);
    }
    const session = this.open(this.defaultPartition, 'context');
    return runWithSession(session, () => promiseOf(fn));
  }

  /** Runs `fn` with `session` as the current context's session (for adapters that own a session). */
  withSession<T>(session: Session, fn: () => T): T {
    return runWithSession(this.own(session), fn);
  }

  /** A session bound to no context, committed by its owner (the legacy adapter). */
  openManual(partitionId?: number): ManagedSession {
    this.run.assertNotClosed();
    return this.open(partitionId === undefined ? this.defaultPartition : normalizePartitionId(partitionId), 'manual');
  }

  open(partitionId: number, kind: SessionKind): ManagedSession {
    const session = new ManagedSession(this.host, partitionId, kind, this.runtimeId);
    this.live += 1;
    // A scope's session ends with its scope (closeScope); registering one costs more than the rest of a scope's bookkeeping.
    if (kind !== 'scope') this.finalizer.register(session, undefined);
    return session;
  }

  /** A scope ended: its session takes no more objects and leaves the count. */
  closeScope(session: ManagedSession): void {
    session.closed = true;
    for (const core of [...session.pending]) session.forget(core);
    this.live -= 1;
  }

  /** Unbinds `session` from the current context, which gets a fresh one next time. */
  unbind(session: ManagedSession): void {
    const slot = boundSlot();
    if (slot?.sessions.get(session.partitionId) === session) slot.sessions.delete(session.partitionId);
  }

  /** `session` as one of this runtime's, or a clear error. */
  own(session: unknown): ManagedSession {
    if (!(session instanceof ManagedSession) || session.runtimeId !== this.runtimeId) {
      throw new InvalidArgumentError('session', 'not a session of the current runtime');
    }
    return session;
  }
}
