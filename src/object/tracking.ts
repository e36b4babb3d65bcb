/**
 * Change tracking. A live object is a proxy over its plain instance; reading
 * a field that holds an object hands out a proxy over that value, so that
 * every change is seen, however it is made:
 *
 *     counter.count = 5;            // reassignment
 *     counter.tags.push('x');       // in-place array edit
 *     counter.profile.name = 'Ada'; // nested property
 *     counter.seen.add(id);         // Map / Set / Date / Uint8Array methods
 *
 * Each change marks the field dirty on its object; the commit re-encodes only
 * dirty fields. Values written into state are copied (and validated) on the
 * way in, so a value the application keeps a reference to cannot change the
 * object behind its back: state is a value, not a shared reference.
 */
import { ObjectRef } from './object-ref.js';
import { isPlainScalar, toStateValue } from './codec.js';
import type { ObjectCore } from './object-core.js';
import { detachedMember, liveMethod } from './method-calls.js';
import { registerProxy } from './raw.js';

/** Where the SDK keeps the core on the plain instance (non-enumerable). */
export const CORE: unique symbol = Symbol('oaas.core');

/** The plain instance as tracking sees it. */
export type Instance = Record<string | symbol, unknown> & { [CORE]?: ObjectCore };

const proxies = new WeakMap<object, object>();

/** A tracking proxy over a value held in `core`'s field `root` (cached per value). */
function track(value: unknown, core: ObjectCore, root: string, path: string): unknown {
  if (typeof value !== 'object' || value === null || value instanceof ObjectRef) return value;
  const cached = proxies.get(value);
  if (cached !== undefined) return cached;
  const proxy = new Proxy(value, handlerFor(value, core, root, path));
  proxies.set(value, proxy);
  registerProxy(proxy, value);
  return proxy;
}

function handlerFor(value: object, core: ObjectCore, root: string, path: string): ProxyHandler<object> {
  if (value instanceof Map) return collectionHandler(core, root, path, MAP_MUTATORS);
  if (value instanceof Set) return collectionHandler(core, root, path, SET_MUTATORS);
  if (value instanceof Date) return methodHandler(core, root, (name) => name.startsWith('set'));
  if (value instanceof Uint8Array) return bytesHandler(core, root);
  return plainHandler(core, root, path);
}

function childPath(path: string, prop: string): string {
  return /^\d+$/.test(prop) ? `${path}[${prop}]` : `${path}.${prop}`;
}

/** Plain objects and arrays: writes go through the traps, reads hand out nested proxies. */
function plainHandler(core: ObjectCore, root: string, path: string): ProxyHandler<object> {
  return {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop === 'symbol' || !Object.prototype.hasOwnProperty.call(target, prop)) return value;
      return track(value, core, root, childPath(path, prop));
    },
    set(target, prop, value, receiver) {
      if (typeof prop === 'symbol') return Reflect.set(target, prop, value, receiver);
      const copy = toStateValue(value, core.location(childPath(path, prop)));
      let ok = false;
      core.write(root, () => {
        ok = Reflect.set(target, prop, copy);
      });
      return ok;
    },
    defineProperty(target, prop, descriptor) {
      if (typeof prop === 'symbol' || !('value' in descriptor)) return Reflect.defineProperty(target, prop, descriptor);
      const copy = toStateValue(descriptor.value, core.location(childPath(path, prop)));
      let ok = false;
      core.write(root, () => {
        ok = Reflect.defineProperty(target, prop, { ...descriptor, value: copy });
      });
      return ok;
    },
    deleteProperty(target, prop) {
      let ok = false;
      core.write(root, () => {
        ok = Reflect.deleteProperty(target, prop);
      });
      return ok;
    },
  };
}

const MAP_MUTATORS = new Set(['set', 'delete', 'clear']);
const SET_MUTATORS = new Set(['add', 'delete', 'clear']);
const BYTES_MUTATORS = new Set(['set', 'fill', 'copyWithin', 'reverse', 'sort']);

/** Map and Set: their methods need the real collection as `this`, so they are wrapped. */
function collectionHandler(core: ObjectCore, root: string, path: string, mutators: ReadonlySet<string>): ProxyHandler<object> {
  const wrap = (v: unknown): unknown => track(v, core, root, `${path}{}`);
  return {
    get(target, prop, receiver) {
      const collection = target as Map<unknown, unknown> & Set<unknown>;
      const size: number = collection.size;
      if (prop === 'size') return size;
      const member: unknown = Reflect.get(target, prop, target);
      if (typeof member !== 'function') return member;
      const fn = member as (...args: unknown[]) => unknown;
      if (typeof prop === 'string' && mutators.has(prop)) {
        return (...args: unknown[]) => {
          const copies = prop === 'delete' ? args : args.map((a) => toStateValue(a, core.location(`${path}{}`)));
          let result: unknown;
          core.write(root, () => {
            result = fn.apply(target, copies);
          });
          return result === target ? (receiver as unknown) : result;
        };
      }
      switch (prop) {
        case 'get':
          return (key: unknown) => wrap(collection.get(key));
        case 'forEach':
          return (cb: (v: unknown, k: unknown, c: unknown) => void, thisArg?: unknown) => {
            collection.forEach((v: unknown, k: unknown) => {
              cb.call(thisArg, wrap(v), k, receiver);
            });
          };
        case 'values':
          return () => mapIterator(collection.values(), wrap);
        case 'entries':
          return () => mapIterator(collection.entries(), ([k, v]: [unknown, unknown]) => [k, wrap(v)]);
        case Symbol.iterator:
          return target instanceof Map
            ? () => mapIterator((collection as Map<unknown, unknown>).entries(), ([k, v]: [unknown, unknown]) => [k, wrap(v)])
            : () => mapIterator((collection as Set<unknown>).values(), wrap);
        default:
          return fn.bind(target);
      }
    },
  };
}

function* mapIterator<T, U>(source: Iterator<T>, map: (v: T) => U): Generator<U> {
  for (let step = source.next(); step.done !== true; step = source.next()) yield map(step.value);
}

/** Objects whose state changes only through methods (Date): mutating methods mark the field dirty. */
function methodHandler(core: ObjectCore, root: string, isMutator: (name: string) => boolean): ProxyHandler<object> {
  return {
    get(target, prop) {
      const member: unknown = Reflect.get(target, prop, target);
      if (typeof member !== 'function') return member;
      const fn = member as (...args: unknown[]) => unknown;
      if (typeof prop === 'string' && isMutator(prop)) {
        return (...args: unknown[]) => {
          let result: unknown;
          core.write(root, () => {
            result = fn.apply(target, args);
          });
          return result;
        };
      }
      return fn.bind(target);
    },
  };
}

/** Uint8Array and Buffer: index writes and mutating methods mark the field dirty. */
function bytesHandler(core: ObjectCore, root: string): ProxyHandler<object> {
  const methods = methodHandler(core, root, (name) => BYTES_MUTATORS.has(name) || name.startsWith('write') || name.startsWith('swap'));
  return {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) return Reflect.get(target, prop) as unknown;
      if (prop === 'length' || prop === 'byteLength' || prop === 'byteOffset' || prop === 'buffer') return Reflect.get(target, prop, target) as unknown;
      return methods.get?.(target, prop, receiver) as unknown;
    },
    set(target, prop, value) {
      let ok = false;
      core.write(root, () => {
        ok = Reflect.set(target, prop, value);
      });
      return ok;
    },
  };
}

/** A value to store in a top-level field: scalars as they are, anything else copied and checked. */
function fieldValue(value: unknown, core: ObjectCore, prop: string): unknown {
  return isPlainScalar(value) ? value : toStateValue(value, core.location(prop));
}

/** The position of the state field `prop` names on a live object, or -1 (no core, a symbol, any other property). */
function fieldIndexOf(core: ObjectCore | undefined, prop: string | symbol): number {
  return core === undefined || typeof prop === 'symbol' ? -1 : core.fields.fieldIndex(prop);
}

/** The handler of live objects themselves. */
export const instanceHandler: ProxyHandler<Instance> = {
  get(target, prop, receiver) {
    if (typeof prop === 'symbol') return Reflect.get(target, prop, receiver);
    const core = target[CORE];
    // An instance made with `new` (or one still being constructed by the SDK).
    if (core === undefined) return detachedMember(target, prop, receiver);
    const member = core.fields.memberOf(prop);
    if (member === undefined) return Reflect.get(target, prop, receiver);
    if (member.kind === 'field') return track(target[prop], core, prop, prop);
    if (member.kind === 'method') return liveMethod(core, member.method!);
    const accessor = member.accessor!;
    return (...args: unknown[]) => core.host.access(core, accessor, args);
  },
  set(target, prop, value, receiver) {
    const core = target[CORE];
    const index = fieldIndexOf(core, prop);
    if (core === undefined || index < 0) return Reflect.set(target, prop, value, receiver);
    core.assign(index, prop as string, fieldValue(value, core, prop as string));
    return true;
  },
  defineProperty(target, prop, descriptor) {
    const core = target[CORE];
    const index = fieldIndexOf(core, prop);
    if (core === undefined || index < 0 || !('value' in descriptor)) return Reflect.defineProperty(target, prop, descriptor);
    core.assign(index, prop as string, fieldValue(descriptor.value, core, prop as string));
    return true;
  },
  deleteProperty(target, prop) {
    const core = target[CORE];
    const index = fieldIndexOf(core, prop);
    if (core === undefined || index < 0) return Reflect.deleteProperty(target, prop);
    // A state field cannot disappear; deleting it stores `undefined`.
    core.assign(index, prop as string, undefined);
    return true;
  },
};
