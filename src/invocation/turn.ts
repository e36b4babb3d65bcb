import { setTimeout as sleep } from 'node:timers/promises';
import { InvocationTimeoutError, LockTimeoutError, ObjectDeletedError, ShutdownError } from '../errors.js';
import { chainContext } from '../context/async-context.js';
import type { ObjectCore } from '../object/object-core.js';
import type { MethodMeta } from '../registry/class-meta.js';
import { chainHolds, frameFor, innermostScope, type ChainLink } from '../session/call-chain.js';
import { UndoFrame } from '../session/undo-frame.js';

/** What a turn needs from the runtime. */
export interface TurnHost {
  readonly lockTimeoutMs: number;
  assertAcceptingWork(chain: ChainLink | undefined): void;
  /** Resolves when a new top-level call may start (back-pressure), or `undefined` at once. */
  admit(chain: ChainLink | undefined): Promise<void> | undefined;
  turnStarted(): void;
  turnEnded(): void;
}

type Method = (...args: unknown[]) => unknown;

function methodOf(core: ObjectCore, method: MethodMeta): Method {
  return Reflect.get(core.target, method.propertyKey) as Method;
}

/**
 * Calls a `@method` as a turn on its object: one call at a time per object
 * (re-entrant for the chain that holds it), atomic on the object (a failure
 * restores the fields it changed), retried as the method's options say.
 */
export async function invokeMethod(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> {
  if (method.stateless) {
    host.assertAcceptingWork(chainContext.getStore());
    return methodOf(core, method).apply(core.proxy, args);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      return await runTurn(host, core, method, args);
    } catch (error) {
      const final = error instanceof ShutdownError || error instanceof ObjectDeletedError;
      if (final || attempt >= method.retries) throw error;
      if (method.retryDelayMs > 0) await sleep(method.retryDelayMs);
    }
  }
}

/** A held turn: who holds it, and whether this call took it (and must release it). */
export interface Turn {
  readonly holder: object;
  readonly owned: boolean;
}

/**
 * Takes `core`'s turn for the current chain: re-entrant when the chain
 * already holds it, for the scope when one is open, else for this call alone.
 */
export async function takeTurn(host: TurnHost, core: ObjectCore, chain: ChainLink | undefined): Promise<Turn> {
  const scope = innermostScope(chain);
  if (scope !== undefined) {
    // Even when the chain already holds the object, this scope level needs its own rollback record.
    await scope.hold(core, chain);
    return { holder: core.lock?.holder ?? scope.holder, owned: false };
  }
  if (chainHolds(chain, core)) return { holder: core.lock!.holder!, owned: false };
  const holder = {};
  const timeout = host.lockTimeoutMs;
  await core.ensureLock().acquire(holder, timeout, () => new LockTimeoutError(core.key, timeout));
  return { holder, owned: true };
}

async function runTurn(host: TurnHost, core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> {
  const chain = chainContext.getStore();
  host.assertAcceptingWork(chain);
  core.assertUsable();
  const admission = host.admit(chain);
  if (admission !== undefined) await admission;
  const { holder, owned } = await takeTurn(host, core, chain);

  const frame = new UndoFrame(core, frameFor(chain, core));
  const link: ChainLink = { parent: chain, holder, core, frame };
  host.turnStarted();
  let ended = false;
  const end = (ok: boolean): void => {
    if (ended) return;
    ended = true;
    if (ok) frame.mergeIntoParent();
    else frame.restore();
    host.turnEnded();
    if (owned) core.releaseLock(holder);
  };

  let body: Promise<unknown>;
  try {
    core.assertUsable();
    const fn = methodOf(core, method);
    body = chainContext.run(link, async () => await fn.apply(core.proxy, args));
  } catch (error) {
    end(false);
    throw error;
  }
  if (method.timeoutMs === undefined) {
    try {
      const result = await body;
      end(true);
      return result;
    } catch (error) {
      end(false);
      throw error;
    }
  }
  return raceTimeout(body, method, end);
}

/**
 * A timed-out call rejects at once, but keeps its turn until its body
 * settles: only then are its changes rolled back, so nothing else sees (or
 * commits) a half-done call.
 */
async function raceTimeout(body: Promise<unknown>, method: MethodMeta, end: (ok: boolean) => void): Promise<unknown> {
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
    end(true);
    return result;
  } catch (error) {
    if (timedOut) {
      body.then(
        () => {
          end(false);
        },
        () => {
          end(false);
        },
      );
    } else {
      end(false);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
