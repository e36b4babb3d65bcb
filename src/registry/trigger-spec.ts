/**
 * Trigger declarations, in the shape Oparaca gives objects: data triggers
 * (`onCreate` / `onUpdate` / `onDelete`, on a class or one of its fields)
 * and function triggers (`onComplete` / `onError`, on a method), each a list
 * of targets. This module checks their shape when a class registers; which
 * classes and methods the targets name is settled later, when the runtime
 * starts (see `resolve-triggers.ts`), since a target class may register after
 * the class that points at it.
 */
import { describeValue } from '../describe.js';
import { RegistrationError } from '../errors.js';
import { normalizeObjectId, normalizePartitionId } from '../identity.js';
import { NAME_PATTERN, PACKAGE_PATTERN } from './names.js';

/**
 * The class a trigger invokes: a class id (`pkg.Name`, or a bare `Name` for
 * a class of the declaring class's package) or a function returning a
 * registered `@service` class. The function is called when the runtime
 * starts, so two classes may point at each other.
 */
export type TriggerClass = string | (() => abstract new () => object);

/**
 * One invocation a trigger makes.
 *
 * @example
 * \@service('Order', { package: 'shop', onCreate: [{ cls: () => Audit, method: 'record', objectId: 'orders' }] })
 */
export interface TriggerTarget {
  /** The target class. */
  readonly cls: TriggerClass;
  /** The `@method` to invoke (its invocation name). Without `objectId` it must be `stateless`. */
  readonly method: string;
  /** The object the method runs on; it must exist when the trigger is delivered. @default none: a stateless call */
  readonly objectId?: string | number | undefined;
  /** The target's partition. @default the source object's partition */
  readonly partitionId?: number | undefined;
}

/** Data triggers: targets invoked after a commit creates, updates or deletes an object. */
export interface DataTriggerOptions {
  /** After a commit that creates the object. @default none */
  readonly onCreate?: readonly TriggerTarget[] | undefined;
  /** After a commit that changes a stored object (on a field: when the commit changes that field). @default none */
  readonly onUpdate?: readonly TriggerTarget[] | undefined;
  /** After a commit that deletes the object. @default none */
  readonly onDelete?: readonly TriggerTarget[] | undefined;
}

/** Function triggers: targets invoked after a call of the method. */
export interface FunctionTriggerOptions {
  /** After a call that returned and whose changes are committed. @default none */
  readonly onComplete?: readonly TriggerTarget[] | undefined;
  /** After a call that failed. @default none */
  readonly onError?: readonly TriggerTarget[] | undefined;
}

/** A target as recorded: its shape checked, its object id canonical. */
export interface TargetSpec {
  readonly cls: TriggerClass;
  readonly method: string;
  readonly objectId: string | undefined;
  readonly partitionId: number | undefined;
}

/** Data triggers as recorded (each list possibly empty). */
export interface DataTriggerSpec {
  readonly onCreate: readonly TargetSpec[];
  readonly onUpdate: readonly TargetSpec[];
  readonly onDelete: readonly TargetSpec[];
}

/** Function triggers as recorded (each list possibly empty). */
export interface FunctionTriggerSpec {
  readonly onComplete: readonly TargetSpec[];
  readonly onError: readonly TargetSpec[];
}

/** Every trigger a class declares. Members without triggers are absent, so an empty class costs nothing to ask. */
export interface ClassTriggerSpecs {
  /** From `@service`. */
  readonly data: DataTriggerSpec | undefined;
  /** From `@field`, by property name, in declaration order (inherited first). */
  readonly fields: ReadonlyMap<string, DataTriggerSpec>;
  /** From `@method`, by invocation name. */
  readonly functions: ReadonlyMap<string, FunctionTriggerSpec>;
}

const TARGET_KEYS: ReadonlySet<string> = new Set(['cls', 'method', 'objectId', 'partitionId']);

/** `pkg.Name` or a bare `Name`: the shapes a class id can have. */
function isClassIdShape(id: string): boolean {
  const dot = id.lastIndexOf('.');
  if (dot === -1) return NAME_PATTERN.test(id);
  return PACKAGE_PATTERN.test(id.slice(0, dot)) && NAME_PATTERN.test(id.slice(dot + 1));
}

function checkClass(cls: unknown, at: string): TriggerClass {
  if (typeof cls === 'string') {
    if (!isClassIdShape(cls)) throw new RegistrationError(`${at}.cls: ${describeValue(cls)} is not a class id (pkg.Name, or Name for a class of this package)`);
    return cls;
  }
  if (typeof cls === 'function') {
    // A class passed as such cannot be called: it must come wrapped, which also lets classes point at each other.
    if (Object.hasOwn(cls, 'prototype') && /^class\b/.test(Function.prototype.toString.call(cls))) {
      throw new RegistrationError(`${at}.cls: pass the class as a function returning it, cls: () => ${cls.name || 'TheClass'}`);
    }
    return cls as () => abstract new () => object;
  }
  throw new RegistrationError(`${at}.cls: expected a class id or a function returning a @service class, got ${describeValue(cls)}`);
}

function checkTarget(target: unknown, at: string): TargetSpec {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    throw new RegistrationError(`${at}: a trigger target must be an object { cls, method, objectId?, partitionId? }, got ${describeValue(target)}`);
  }
  const unknown = Object.keys(target).filter((key) => !TARGET_KEYS.has(key));
  if (unknown.length > 0) throw new RegistrationError(`${at}: unknown key ${unknown.join(', ')}; a trigger target has cls, method, objectId and partitionId`);
  const { cls, method, objectId, partitionId } = target as Record<string, unknown>;
  if (typeof method !== 'string' || method === '') throw new RegistrationError(`${at}.method: expected a method name, got ${describeValue(method)}`);
  const spec: TargetSpec = {
    cls: checkClass(cls, at),
    method,
    objectId: objectId === undefined ? undefined : rethrown(`${at}.objectId`, () => normalizeObjectId(objectId)),
    partitionId: partitionId === undefined ? undefined : rethrown(`${at}.partitionId`, () => normalizePartitionId(partitionId)),
  };
  return spec;
}

/** The identity checks throw argument errors; a declaration's fault is a registration error. */
function rethrown<T>(at: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new RegistrationError(`${at}: ${(error as Error).message.replace(/^partitionId: /, '')}`, { cause: error });
  }
}

function checkList(value: unknown, at: string): TargetSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RegistrationError(`${at}: expected an array of trigger targets, got ${describeValue(value)}`);
  return (value as unknown[]).map((target, i) => checkTarget(target, `${at}[${i}]`));
}

/**
 * The data triggers in `@service` or `@field` options, checked; `undefined`
 * when they declare none. `where` names the declaration in messages
 * (`service shop.Order, @field status`).
 */
export function checkDataTriggers(options: object, where: string): DataTriggerSpec | undefined {
  const o = options as Record<string, unknown>;
  const spec = {
    onCreate: checkList(o.onCreate, `${where}: onCreate`),
    onUpdate: checkList(o.onUpdate, `${where}: onUpdate`),
    onDelete: checkList(o.onDelete, `${where}: onDelete`),
  };
  return spec.onCreate.length + spec.onUpdate.length + spec.onDelete.length === 0 ? undefined : spec;
}

/** The function triggers in `@method` options, checked; `undefined` when they declare none. */
export function checkFunctionTriggers(options: object, where: string): FunctionTriggerSpec | undefined {
  const o = options as Record<string, unknown>;
  const spec = {
    onComplete: checkList(o.onComplete, `${where}: onComplete`),
    onError: checkList(o.onError, `${where}: onError`),
  };
  return spec.onComplete.length + spec.onError.length === 0 ? undefined : spec;
}
