// The module's binding, not the global: `globalThis.performance` is a getter, read on every call.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError, InvocationCancelledError, InvocationTimeoutError, LockTimeoutError, ObjectDeletedError, ShutdownError, formatIdentity } from '../errors.js';
import { toStateValue } from '../object/codec.js';
import type { Logger } from 'pino';
import { callIn, currentChain, currentState, runInChain, type ContextState, type InvocationContext, type SessionSlot } from './async-context.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ObjectCore } from '../object/object-core.js';
import type { LockHolder } from '../object/object-lock.js';
import type { AccessorMeta, MethodMeta } from '../registry/class-meta.js';
import { chainHolds, frameFor, innermostScope, type ChainLink } from './call-chain.js';
import { UndoFrame } from './undo-frame.js';
import { rejected } from '../promises.js';

/** What a turn needs from the runtime. */
export interface TurnHost {
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  assertAcceptingWork(chain: ChainLink | undefined): void;
  /** Resolves when a new top-level call may start (back-pressure), or `undefined` at once. */
  admit(chain: ChainLink | undefined): Promise<void> | undefined;
  turnStarted(): void;
  turnEnded(): void;
  /** Cluster mode: runs a call on the object's owner, for a call that waited here while the object moved away. */
  forward?(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown>;
  /** A call on an object whose class has triggers ended (`parent`: the chain around it), after its changes were kept or rolled back. */
  callEnded?(core: ObjectCore, method: MethodMeta, parent: ChainLink | undefined, ok: boolean, error: unknown): void;
}

type Method = (...args: unknown[]) => unknown;

function methodOf(core: ObjectCore, method: MethodMeta): Method {
  // A property load, not `Reflect.get`: the load site keeps its inline cache (a call's hot path).
  return core.target[method.propertyKey] as Method;
}

/**
 * Calls a `@method` as a turn on its object: one call at a time per object
 * (re-entrant for the chain that holds it), atomic on the object (a failure
 * restores the fields it changed), retried as the method's options say.
 *
 * The common call (no retries, no timeout, nobody else holding the object)
 * takes its turn synchronously and adds one promise to the method's own, so
 * a `@method` costs a small multiple of a plain async call.
 */
export function invokeMethod(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncGenerator<unknown> {
  if (method.streaming) return streamTurn(host, core, method, args);
  if (method.stateless) return callStateless(host, core, method, args);
  if (method.retries === 0) return runTurn(host, core, method, args, performance.now());
  return callWithRetries(host, core, method, args);
}

async function callStateless(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> {
  host.assertAcceptingWork(currentChain());
  return await methodOf(core, method).apply(core.proxy, args);
}

async function callWithRetries(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> {
  const started = performance.now();
  const took = (): number => performance.now() - started;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await runTurn(host, core, method, args, undefined);
      host.telemetry.invocation(core.key.clsId, method.name, true, took());
      return result;
    } catch (error) {
      const final = error instanceof ShutdownError || error instanceof ObjectDeletedError;
      if (final || attempt >= method.retries) {
        host.telemetry.invocation(core.key.clsId, method.name, false, took());
        throw error;
      }
      host.telemetry.retry('method');
      host.logger.info({ object: formatIdentity(core.key), method: method.name, attempt: attempt + 1, err: error }, 'method will be retried');
      if (method.retryDelayMs > 0) await sleep(method.retryDelayMs);
    }
  }
}

/** A held turn: who holds it, and whether this call took it (and must release it). */
export interface Turn {
  readonly holder: object;
  readonly owned: boolean;
}

/** The turn, when it can be had without waiting; `undefined` when the caller must wait for it. */
function takeTurnNow(core: ObjectCore, chain: ChainLink | undefined): Turn | undefined {
  const scope = innermostScope(chain);
  if (scope !== undefined) {
    if (!scope.frames.has(core) && core.locked && !chainHolds(chain, core)) return undefined;
    // Even when the chain already holds the object, this scope level needs its own rollback record.
    scope.holdNow(core, chain);
    return { holder: core.holder ?? scope.holder, owned: false };
  }
  if (chainHolds(chain, core)) return { holder: core.holder!, owned: false };
  const holder = {};
  return core.tryHold(holder) ? { holder, owned: true } : undefined;
}

/**
 * Takes `core`'s turn for the current chain: re-entrant when the chain
 * already holds it, for the scope when one is open, else for this call alone.
 */
export async function takeTurn(host: TurnHost, core: ObjectCore, chain: ChainLink | undefined): Promise<Turn> {
  const now = takeTurnNow(core, chain);
  if (now !== undefined) return now;
  const scope = innermostScope(chain);
  if (scope !== undefined) {
    await scope.hold(core, chain);
    return { holder: core.holder ?? scope.holder, owned: false };
  }
  const holder = {};
  const timeout = host.lockTimeoutMs;
  await core.ensureLock().acquire(holder, timeout, () => new LockTimeoutError(core.key, timeout));
  return { holder, owned: true };
}

/** One run of a method as a turn. `started` set: this run is the whole call, so it records the invocation. */
function runTurn(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[], started: number | undefined): Promise<unknown> {
  const state = currentState();
  const chain = state?.chain;
  let call: MethodCall | undefined;
  try {
    host.assertAcceptingWork(chain);
    core.assertUsable();
    if (host.admit(chain) === undefined) call = callNow(host, core, method, state, started);
  } catch (error) {
    return rejected(error);
  }
  if (call !== undefined) return execute(call, args, false, state);
  return (async () => {
    const admission = host.admit(chain);
    if (admission !== undefined) await admission;
    const waited = await takeTurn(host, core, chain);
    if (core.remote && host.forward !== undefined) {
      if (waited.owned) core.releaseLock(waited.holder);
      return host.forward(core, method, args);
    }
    return execute(new MethodCall(host, core, method, state, waited.holder, waited.owned, started), args, true, state);
  })();
}

/** The call holding its turn, when the turn can be had without waiting; `undefined` when it must wait. */
function callNow(host: TurnHost, core: ObjectCore, method: MethodMeta, state: ContextState | undefined, started: number | undefined): MethodCall | undefined {
  const chain = state?.chain;
  if (chain === undefined) {
    // A top-level call (no scope, nothing to re-enter): the call itself holds the turn.
    const call = new MethodCall(host, core, method, state, undefined, true, started);
    return core.tryHold(call) ? call : undefined;
  }
  const turn = takeTurnNow(core, chain);
  return turn === undefined ? undefined : new MethodCall(host, core, method, state, turn.holder, turn.owned, started);
}

/**
 * Runs the call's body in the call's own context state; `waited`: the turn
 * came after a wait, in which the object may have been deleted; `outer`:
 * the state the call was made in, put back once the body returns.
 */
function execute(call: MethodCall, args: unknown[], waited: boolean, outer: ContextState | undefined): Promise<unknown> {
  const { host, core, method } = call;
  host.turnStarted();
  let body: unknown;
  try {
    if (waited) core.assertUsable();
    const fn = methodOf(core, method);
    body = callIn(call, fn, core.proxy, args, outer);
  } catch (error) {
    call.end(false, error);
    return rejected(error);
  }
  if (!isThenable(body)) {
    // A synchronous method has finished: its turn ends now, and the caller gets one promise, as from a plain async method.
    call.end(true);
    return Promise.resolve(body);
  }
  const settled = body instanceof Promise ? (body as Promise<unknown>) : Promise.resolve(body);
  if (method.timeoutMs !== undefined) return raceTimeout(settled, method, call);
  return settled.then(
    (result) => {
      call.end(true);
      return result;
    },
    (error: unknown) => {
      call.end(false, error);
      throw error;
    },
  );
}

/**
 * One running `@method` call: its link in the call chain (holding the
 * object's turn and its rollback record), the context state its body runs
 * in (the caller's session and invocation, itself as the chain), and what it
 * must do once when its body settles: keep or roll back its changes, release
 * its turn, count it. One object per call rather than a link, a state, a
 * holder and closures.
 */
class MethodCall implements ChainLink, ContextState {
  readonly holder: LockHolder;
  readonly frame: UndoFrame;
  readonly scope: undefined = undefined;
  readonly parent: ChainLink | undefined;
  readonly slot: SessionSlot | undefined;
  readonly chain: ChainLink = this;
  readonly invocation: InvocationContext | undefined;
  private ended = false;

  constructor(
    readonly host: TurnHost,
    readonly core: ObjectCore,
    readonly method: MethodMeta,
    /** The state the call is made in. */
    outer: ContextState | undefined,
    /** `undefined`: the call holds the turn itself. */
    holder: LockHolder | undefined,
    private readonly owned: boolean,
    private readonly started: number | undefined,
  ) {
    const parent = outer?.chain;
    this.parent = parent;
    this.slot = outer?.slot;
    this.invocation = outer?.invocation;
    this.holder = holder ?? this;
    this.frame = new UndoFrame(core, parent === undefined ? undefined : frameFor(parent, core));
  }

  end(ok: boolean, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const { host, core, method } = this;
    if (ok) this.frame.mergeIntoParent();
    else rollBack(host, core, method.name, this.frame, error);
    // After the rollback: a failed call's event must outlive it.
    if (core.triggers !== undefined) host.callEnded?.(core, method, this.parent, ok, error);
    host.turnEnded();
    if (this.owned) core.releaseLock(this.holder);
    // The class's id is the key's, read from the class record every call shares.
    if (this.started !== undefined) host.telemetry.invocation(core.meta.clsId, method.name, ok, performance.now() - this.started);
  }
}

/**
 * A timed-out call rejects at once, but keeps its turn until its body
 * settles: only then are its changes rolled back, so nothing else sees (or
 * commits) a half-done call.
 */
async function raceTimeout(body: Promise<unknown>, method: MethodMeta, call: MethodCall): Promise<unknown> {
  const ms = method.timeoutMs!;
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new InvocationTimeoutError(method.name, ms));
    }, ms);
  });
  try {
    const result = await Promise.race([body, timeout]);
    call.end(true);
    return result;
  } catch (error) {
    if (timedOut) {
      body.then(
        () => {
          call.end(false, error);
        },
        () => {
          call.end(false, error);
        },
      );
    } else {
      call.end(false, error);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A streaming (`async *`) method as one turn: the object is held from the
 * first value to the last. Each `await this.checkpoint()` in it commits the
 * progress so far; if the stream fails or its consumer stops early (a client
 * that disconnects), the object goes back to its last checkpoint.
 */
async function* streamTurn(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): AsyncGenerator<unknown> {
  const chain = currentChain();
  host.assertAcceptingWork(chain);
  core.assertUsable();
  const admission = host.admit(chain);
  if (admission !== undefined) await admission;
  const { holder, owned } = await takeTurn(host, core, chain);
  const frame = new UndoFrame(core, frameFor(chain, core));
  const link: ChainLink = { parent: chain, holder, core, frame };
  host.turnStarted();
  let finished = false;
  // Why the stream did not finish: what the method (or the consumer, by `throw()`) threw; else the consumer stopped reading.
  let failure: { error: unknown } | undefined;
  try {
    const fn = methodOf(core, method);
    const inner = runInChain(link, () => fn.apply(core.proxy, args)) as AsyncGenerator<unknown>;
    try {
      for (;;) {
        const step: IteratorResult<unknown> = await runInChain(link, () => inner.next());
        if (step.done === true) {
          finished = true;
          return step.value as unknown;
        }
        yield step.value;
      }
    } finally {
      if (!finished) await runInChain(link, () => inner.return(undefined)).catch(() => undefined);
    }
  } catch (error) {
    failure = { error };
    throw error;
  } finally {
    if (finished) frame.mergeIntoParent();
    else rollBack(host, core, method.name, frame, failure === undefined ? new InvocationCancelledError(method.name) : failure.error);
    host.turnEnded();
    if (owned) core.releaseLock(holder);
  }
}

/** Runs a `@getter` (a read, no turn) or a `@setter` (a write, as a turn). */
export async function runAccessor(host: TurnHost, core: ObjectCore, accessor: AccessorMeta, args: unknown[]): Promise<unknown> {
  const chain = currentChain();
  host.assertAcceptingWork(chain);
  core.assertUsable();
  if (accessor.kind === 'getter') {
    if (args.length > 0) throw new InvalidArgumentError('args', `${accessor.name} takes no arguments`);
    return project(toStateValue(core.target[accessor.field], core.location(accessor.field)), accessor.projection);
  }
  if (args.length !== 1) throw new InvalidArgumentError('args', `${accessor.name} takes exactly one argument, the new value`);
  const { holder, owned } = await takeTurn(host, core, chain);
  const link: ChainLink = { parent: chain, holder, core, frame: new UndoFrame(core, frameFor(chain, core)) };
  host.turnStarted();
  try {
    core.assertUsable();
    runInChain(link, () => {
      (core.proxy as Record<string, unknown>)[accessor.field] = args[0];
    });
    link.frame?.mergeIntoParent();
  } finally {
    host.turnEnded();
    if (owned) core.releaseLock(holder);
  }
  return undefined;
}

/** Keeps only the projected keys of an object value. */
function project(value: unknown, projection: readonly string[] | undefined): unknown {
  if (projection === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of projection) if (Object.prototype.hasOwnProperty.call(record, key)) out[key] = record[key];
  return out;
}

/** Restores a failed call's object, and says so once in the log and the figures. */
function rollBack(host: TurnHost, core: ObjectCore, method: string, frame: UndoFrame, error: unknown): void {
  frame.restore();
  host.telemetry.rollback('method', error);
  // An application error is the application's to report; at info it stays out of a default (warn) log.
  host.logger.info({ object: formatIdentity(core.key), method, err: error }, 'method call rolled back');
}

/** A promise or another thenable: the call's turn lasts until it settles. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function');
}
