/**
 * The one async context the SDK keeps. Each async context carries three
 * things, in one store:
 * - its session slot: which unit of work the context writes into;
 * - its call chain: which turns and scopes the chain of calls holds, so that
 *   re-entrant calls pass and writes are recorded for rollback;
 * - the remote invocation it serves, when a transport started it.
 * They change at different moments (a method call extends the chain but
 * keeps the caller's session; `runInSession` starts a new session but keeps
 * the chain), so each change makes a new state with the other two kept.
 * One AsyncLocalStorage rather than one per part: on Node 20 every promise
 * the process makes pays a hook per active AsyncLocalStorage.
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

/** The invocation a transport is serving. */
export interface InvocationContext {
  /**
   * The request's options, keys in lower case: over HTTP, the request's
   * `accept`, `content-type` and (when valid) `traceparent` headers; over
   * gRPC, `InvocationRequest.options` as the platform sent them.
   */
  readonly options: Readonly<Record<string, string>>;
  /**
   * Headers of the reply (`InvocationResponse.headers`). A `content-type` set here labels a method's raw result (a `Uint8Array`
   * or a string) in the Oparaca gateway dialect.
   */
  readonly replyHeaders: Record<string, string>;
}

/** What one async context carries. A running `@method` call is its own state (no object made per call). */
export interface ContextState {
  readonly slot: SessionSlot | undefined;
  readonly chain: ChainLink | undefined;
  readonly invocation: InvocationContext | undefined;
}

class State implements ContextState {
  constructor(
    readonly slot: SessionSlot | undefined,
    readonly chain: ChainLink | undefined,
    readonly invocation: InvocationContext | undefined,
  ) {}
}

const context = new AsyncLocalStorage<ContextState>();

/** Counts slots bound lazily, so a runner sees at no cost whether the code it ran bound one. */
let lazyBinds = 0;

export function currentState(): ContextState | undefined {
  return context.getStore();
}

export function currentChain(): ChainLink | undefined {
  return context.getStore()?.chain;
}

/** The slot bound to the current context, if any (nothing is bound). */
export function boundSlot(): SessionSlot | undefined {
  return context.getStore()?.slot;
}

export function currentInvocationContext(): InvocationContext | undefined {
  return context.getStore()?.invocation;
}

/** The slot of the current context, bound to it on first use. */
export function currentSlot(): SessionSlot {
  const state = context.getStore();
  let slot = state?.slot;
  if (slot === undefined) {
    slot = { sessions: new Map() };
    // Binds the slot to the rest of this context and everything it starts.
    context.enterWith(new State(slot, state?.chain, state?.invocation));
    lazyBinds++;
  }
  return slot;
}

/**
 * Calls `fn` on `self` with `args` in `state`, and puts `previous` (the
 * current state) back when `fn` returns or throws, so nothing outside sees
 * `state`; promises `fn` creates keep it. This is `AsyncLocalStorage.run`
 * without its closure and rest array: a `@method` call does it once per call.
 * A slot `fn` bound lazily in its synchronous part stays bound for the
 * caller, as a slot bound by the caller itself would.
 */
export function callIn(state: ContextState, fn: (...args: unknown[]) => unknown, self: unknown, args: unknown[], previous: ContextState | undefined): unknown {
  const binds = lazyBinds;
  context.enterWith(state);
  try {
    return fn.apply(self, args);
  } finally {
    context.enterWith((lazyBinds === binds ? previous : keepingBoundSlot(state, previous)) as ContextState);
  }
}

/** `previous`, with the slot the code just run bound lazily when it ran with the caller's (none). */
function keepingBoundSlot(state: ContextState, previous: ContextState | undefined): ContextState | undefined {
  const slot = context.getStore()?.slot;
  if (state.slot !== previous?.slot || slot === undefined || slot === previous?.slot) return previous;
  return new State(slot, previous?.chain, previous?.invocation);
}

function runIn<T>(state: ContextState, fn: () => T): T {
  return callIn(state, fn, undefined, [], context.getStore()) as T;
}

/** Runs `fn` with `link` as the chain (the session and invocation kept). */
export function runInChain<T>(link: ChainLink, fn: () => T): T {
  const state = context.getStore();
  return runIn(new State(state?.slot, link, state?.invocation), fn);
}

/** Runs `fn` with a slot of its own (a fresh context for one request), the chain and invocation kept. */
export function runWithSlot<T>(slot: SessionSlot, fn: () => T): T {
  const state = context.getStore();
  return runIn(new State(slot, state?.chain, state?.invocation), fn);
}

/** A slot of its own holding `session`, which writes go to. */
function slotOf(session: ManagedSession): SessionSlot {
  // Not `new Map([[k, v]])`: the iterable form costs more than the slot's other work (one per session started).
  const sessions = new Map<number, ManagedSession>();
  sessions.set(session.partitionId, session);
  return { sessions, primaryPartition: session.partitionId };
}

/** Runs `fn` with its own slot holding `session`. */
export function runWithSession<T>(session: ManagedSession, fn: () => T): T {
  return runWithSlot(slotOf(session), fn);
}

/** Runs `fn` with its own slot holding `session` and `link` as the chain: a scope at the root. */
export function runWithSessionInChain<T>(session: ManagedSession, link: ChainLink, fn: () => T): T {
  return runIn(new State(slotOf(session), link, context.getStore()?.invocation), fn);
}

/** Runs `fn` serving `invocation` (the session and chain kept). */
export function runWithInvocation<T>(invocation: InvocationContext, fn: () => T): T {
  const state = context.getStore();
  return runIn(new State(state?.slot, state?.chain, invocation), fn);
}
