/**
 * The two async contexts the SDK keeps, and nothing else:
 * - the session context: which unit of work the current async context writes into;
 * - the call-chain context: which turns and scopes the current call chain holds,
 *   so that re-entrant calls pass and writes are recorded for rollback.
 * They are separate because they change at different moments: a method call
 * extends the chain but keeps the caller's session; `runInSession` starts a
 * new session but keeps no chain.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChainLink } from '../session/call-chain.js';
import type { ManagedSession } from '../session/session.js';

/**
 * A mutable holder shared by every async continuation of one context, so a
 * session created lazily in one branch is seen by its siblings that already
 * share the slot.
 */
export interface SessionSlot {
  /** Sessions of this context, by partition. */
  readonly sessions: Map<number, ManagedSession>;
  /** Partition of the session writes go to, when the context was started with one. */
  readonly primaryPartition?: number | undefined;
}

export const sessionContext = new AsyncLocalStorage<SessionSlot>();
export const chainContext = new AsyncLocalStorage<ChainLink>();

/**
 * Calls `fn` on `self` with `args` with `link` as the current chain, like
 * `chainContext.run(link, () => fn.apply(self, args))` without its closure,
 * its rest array and its extra store lookup: a `@method` call does this once
 * per call. The previous chain is put back when `fn` returns or throws, so
 * nothing outside the call sees `link`; promises `fn` creates keep it.
 */
export function callInChain(link: ChainLink, fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[], previous: ChainLink | undefined): unknown {
  chainContext.enterWith(link);
  try {
    return fn.apply(self, args);
  } finally {
    chainContext.enterWith(previous as ChainLink);
  }
}

/** The slot of the current context, bound to it on first use. */
export function currentSlot(): SessionSlot {
  let slot = sessionContext.getStore();
  if (slot === undefined) {
    slot = { sessions: new Map() };
    // Binds the slot to the rest of this context and everything it starts.
    sessionContext.enterWith(slot);
  }
  return slot;
}

/** Runs `fn` with its own slot holding `session`. */
export function runWithSession<T>(session: ManagedSession, fn: () => T): T {
  const slot: SessionSlot = { sessions: new Map([[session.partitionId, session]]), primaryPartition: session.partitionId };
  return sessionContext.run(slot, fn);
}
