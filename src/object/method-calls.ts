/**
 * What calling a `@method`, `@getter` or `@setter` through an instance does.
 * On a live object the call goes to its host (turns, rollback, commits),
 * after the argument check when the method asks for `validateLocal`. On an
 * instance made with `new` there is no host: only stateless methods run
 * (they touch no state); everything else rejects with `ObjectDetachedError`
 * rather than running and silently persisting nothing.
 */
import { ObjectDetachedError } from '../errors.js';
import type { ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { checkArguments } from '../registry/param-schema.js';
import { findClassMeta } from '../registry/registry.js';
import type { ObjectCore } from './object-core.js';

type Fn = (...args: unknown[]) => unknown;

/** The function a live object hands out for one of its methods. */
export function liveMethod(core: ObjectCore, method: MethodMeta): Fn {
  if (!method.validateLocal) return (...args) => core.host.invoke(core, method, args);
  return (...args) => checkedCall(method, args, (checked) => core.host.invoke(core, method, checked));
}

/**
 * A member read on an instance without a core: data as it is, and for SDK
 * members a function that refuses (a method's rejected promise, a stream
 * that fails on its first value), so that `await` and `for await` see the
 * failure where they see every other failure of a call.
 */
export function detachedMember(target: object, prop: string, receiver: unknown): unknown {
  const value: unknown = Reflect.get(target, prop, receiver);
  // Fields hold data; only functions and declared-but-absent accessors can be SDK members.
  if (value !== undefined && typeof value !== 'function') return value;
  const meta = classMetaOf(target);
  if (meta === undefined) return value;
  const method = meta.methods.get(prop);
  if (method !== undefined) {
    if (!method.stateless) return () => refuse(method.streaming, detachedError(target, meta, prop));
    if (!method.validateLocal || typeof value !== 'function') return value;
    return (...args: unknown[]) => checkedCall(method, args, (checked) => (value as Fn).apply(receiver, checked));
  }
  if (meta.accessors.has(prop)) return () => refuse(false, detachedError(target, meta, prop));
  return value;
}

/**
 * Calls a method without the local argument check: for transports, which
 * check remote arguments themselves (a schema that transforms must run once).
 */
export function callUnchecked(core: ObjectCore | undefined, target: object, receiver: object, method: MethodMeta, args: unknown[]): unknown {
  if (core !== undefined) return core.host.invoke(core, method, args);
  const meta = classMetaOf(target);
  if (!method.stateless || meta === undefined) return refuse(method.streaming, detachedError(target, meta, method.propertyKey));
  return (Reflect.get(target, method.propertyKey, receiver) as Fn).apply(receiver, args);
}

/** The error for a member of a detached instance (a new one each time: errors are never shared). */
export function detachedError(target: object, meta: ClassMeta | undefined, member: string): ObjectDetachedError {
  const ctor = (Object.getPrototypeOf(target) as { constructor?: { name?: string } } | null)?.constructor;
  return new ObjectDetachedError(ctor?.name ?? meta?.ctor.name ?? 'Object', meta?.clsId, member);
}

/** The registered class of an instance, or of its nearest registered ancestor. */
export function classMetaOf(target: object): ClassMeta | undefined {
  for (let p = Object.getPrototypeOf(target) as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const meta = findClassMeta((p as { constructor?: unknown }).constructor);
    if (meta !== undefined) return meta;
  }
  return undefined;
}

/** Runs `run` with the checked arguments; a failed check rejects (or fails the stream) without running it. */
function checkedCall(method: MethodMeta, args: unknown[], run: (checked: unknown[]) => unknown): unknown {
  if (method.streaming) return lazyStream(async () => run(await checkArguments(method, args)));
  let checked: unknown[] | Promise<unknown[]>;
  try {
    checked = checkArguments(method, args);
  } catch (error) {
    return refuse(false, error);
  }
  return checked instanceof Promise ? checked.then(run) : run(checked);
}

/** A rejected promise, or for a streaming method a stream whose first `next()` rejects. */
function refuse(streaming: boolean, error: unknown): unknown {
  const fail = (): never => {
    throw error;
  };
  return streaming ? lazyStream(fail) : new Promise<never>(fail);
}

/** A stream that starts at its first `next()`, as a streaming method's call does: a failure to start is its first value's. */
async function* lazyStream(start: () => unknown): AsyncGenerator<unknown> {
  const inner = (await start()) as AsyncGenerator<unknown, unknown>;
  return yield* inner;
}
