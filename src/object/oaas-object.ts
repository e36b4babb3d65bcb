import { InvalidArgumentError } from '../errors.js';
import { OAAS_OBJECT_BRAND, type MethodMeta } from '../registry/class-meta.js';
import { ObjectRef, TO_REF, runtimeNotLoaded } from './object-ref.js';
import type { ObjectCore } from './object-core.js';
import { callUnchecked, classMetaOf, detachedError } from './method-calls.js';
import { rawOf, registerProxy } from './raw.js';
import { buildReminder, describeReminders, withReminder, type ScheduledReminder, type ScheduleOptions } from './reminders.js';
import { CORE, instanceHandler, type Instance } from './tracking.js';

/** Options of `Cls.create()`. */
export interface CreateOptions {
  /** The object id; generated (unique, time-sortable) when missing. */
  readonly id?: string | number | undefined;
  /** @default the configured `defaultPartition` */
  readonly partitionId?: number | undefined;
}

/** Options of `Cls.load()`. */
export interface LoadOptions {
  /** @default the configured `defaultPartition` */
  readonly partitionId?: number | undefined;
  /**
   * Re-read a live instance from the store when it has no pending changes
   * (another process may have changed it). @default false
   */
  readonly fresh?: boolean | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/** The state fields of an object type: its data properties, minus SDK members and `_`-prefixed names. */
export type StateOf<T> = {
  [K in keyof T as K extends keyof OaasObject ? never : K extends `_${string}` ? never : T[K] extends AnyFunction ? never : K]: T[K];
};

/** Initial field values for `Cls.create()`. */
export type StateInit<T> = Partial<StateOf<T>>;

/** How `create`/`load` reach the runtime without the object layer importing it. */
export interface ObjectFactory {
  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions | undefined): OaasObject;
  load(ctor: abstract new () => OaasObject, id: unknown, options: LoadOptions | undefined): Promise<OaasObject>;
}

let factory: (() => ObjectFactory) | undefined;

/** @internal The runtime installs itself here. */
export function setObjectFactory(get: () => ObjectFactory): void {
  factory = get;
}

function currentFactory(): ObjectFactory {
  if (factory === undefined) throw runtimeNotLoaded();
  return factory();
}

/** The core of a live object, or a clear error for an instance made with `new`. */
export function coreOf(object: object): ObjectCore {
  if (typeof object !== 'object' || (object as object | null) === null) {
    throw new InvalidArgumentError('object', 'expected a live object created with Cls.create() or loaded with Cls.load()');
  }
  const core = (object as Instance)[CORE];
  if (core === undefined) {
    throw new InvalidArgumentError('object', 'not a live object: instances made with `new` are not persisted; use Cls.create() or Cls.load()');
  }
  return core;
}

/** The core of a live object, or `undefined`. */
export function findCore(object: unknown): ObjectCore | undefined {
  if (typeof object !== 'object' || object === null) return undefined;
  return (object as Instance)[CORE];
}

/** The core behind one of the object's own members; `ObjectDetachedError` for an instance made with `new`. */
function ownCore(object: OaasObject, member: string): ObjectCore {
  const core = findCore(object);
  if (core === undefined) throw detachedError(rawOf(object), classMetaOf(rawOf(object)), member);
  return core;
}

/** {@link ownCore} for members that return a promise: a failure rejects it rather than throwing. */
function withOwnCore<T>(object: OaasObject, member: string, run: (core: ObjectCore) => Promise<T>): Promise<T> {
  let core: ObjectCore;
  try {
    core = ownCore(object, member);
  } catch (error) {
    return new Promise<never>(() => {
      throw error;
    });
  }
  return run(core);
}

/**
 * Calls a `@method` of an object without the local argument check: for
 * transports, which have checked (and maybe transformed) remote arguments
 * already. On an instance made with `new`, only stateless methods run.
 */
export function callMethod(object: OaasObject, method: MethodMeta, args: unknown[]): unknown {
  return callUnchecked(findCore(object), rawOf(object), object, method, args);
}

/**
 * Base class of durable service objects. Decorate subclasses with `@service`;
 * their fields are the object's state. Get instances from `Cls.create()` or
 * `Cls.load()`: one made with `new` is plain data, persists nothing, and its
 * SDK members (methods other than stateless ones, accessors, `id`, `delete()`,
 * ...) fail with `ObjectDetachedError`.
 *
 * @example
 * \@service('Counter')
 * class Counter extends OaasObject {
 *   count = 0;
 *   \@method() async increment(by = 1) { this.count += by; return this.count; }
 * }
 * const c = Counter.create({ count: 1 }, { id: 'c1' });
 * await c.increment();
 */
export abstract class OaasObject {
  constructor() {
    Object.defineProperty(this, CORE, { value: undefined, writable: true, enumerable: false, configurable: false });
    const proxy = new Proxy(this as unknown as Instance, instanceHandler);
    registerProxy(proxy, this);
    // Returning the proxy makes subclass field initialisers and every later access go through it.
    return proxy as unknown as this;
  }

  /** The object id. */
  get id(): string {
    return ownCore(this, 'id').key.objectId;
  }

  get partitionId(): number {
    return ownCore(this, 'partitionId').key.partitionId;
  }

  /** `<package>.<name>` of the class. */
  get clsId(): string {
    return ownCore(this, 'clsId').key.clsId;
  }

  /** The last committed version (0 before the first commit). */
  get version(): number {
    return ownCore(this, 'version').version;
  }

  /** Deletes the object at the next commit; later calls on it reject with `ObjectDeletedError`. */
  delete(): Promise<void> {
    return withOwnCore(this, 'delete', (core) => core.host.deleteObject(core));
  }

  /** A durable pointer to this object. */
  asRef(): ObjectRef {
    const { clsId, partitionId, objectId } = ownCore(this, 'asRef').key;
    return new ObjectRef(clsId, partitionId, objectId);
  }

  /**
   * Inside a `@method`: commits the object's state so far, and makes this the
   * point a later failure of the same call rolls back to.
   */
  checkpoint(): Promise<void> {
    return withOwnCore(this, 'checkpoint', (core) => core.host.checkpoint(core));
  }

  /**
   * Re-reads the object from the store, taking its turn, so that changes made
   * by other processes become visible. Rejects with `PendingChangesError` if
   * this process has changes of it not yet committed.
   */
  refresh(): Promise<void> {
    return withOwnCore(this, 'refresh', (core) => core.host.refresh(core));
  }

  /**
   * Asks the runtime to call one of this object's `@method`s later: once
   * (`inMs`, `at`) or every `everyMs`. The reminder is state: the commit
   * that writes this call's changes writes it, and a rollback removes it.
   * When due, the method runs in a fresh scope that also advances (or
   * removes) the reminder, so each firing takes effect once. Scheduling a
   * name again replaces that reminder. Returns the reminder's name.
   *
   * @example
   * \@method() async issue() { this.status = 'issued'; this.schedule('charge', { inMs: 30 * DAY }); }
   */
  schedule(method: string, options: ScheduleOptions): string {
    const core = ownCore(this, 'schedule');
    core.assertUsable();
    const reminder = buildReminder(core.meta, method, options, core.host.reminderClock(core), core.key);
    core.writeReminders(withReminder(core.reminders, reminder));
    return reminder.name;
  }

  /** Removes a reminder by name (part of this call's changes, like `schedule`); `false` when there was none. */
  unschedule(name: string): boolean {
    const core = ownCore(this, 'unschedule');
    core.assertUsable();
    if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('name', 'expected the name of a reminder');
    const reminders = core.reminders ?? [];
    if (!reminders.some((r) => r.name === name)) return false;
    core.writeReminders(reminders.filter((r) => r.name !== name));
    return true;
  }

  /** The object's reminders, ordered by name (a frozen copy). */
  get schedules(): readonly ScheduledReminder[] {
    return describeReminders(ownCore(this, 'schedules').reminders);
  }

  [TO_REF](): ObjectRef {
    return this.asRef();
  }

  /**
   * Creates a new live object in the current session; it is persisted at the
   * next commit. Synchronous.
   */
  static create<T extends OaasObject>(this: abstract new () => T, init?: StateInit<T>, options?: CreateOptions): T {
    return currentFactory().create(this, init, options) as T;
  }

  /** The live instance if this process has one, else the stored object; rejects with `ObjectNotFoundError`. */
  static load<T extends OaasObject>(this: abstract new () => T, id: string | number, options?: LoadOptions): Promise<T> {
    return currentFactory().load(this, id, options) as Promise<T>;
  }
}

Object.defineProperty(OaasObject.prototype, OAAS_OBJECT_BRAND, { value: true, enumerable: false });
