import { ObjectDeletedError } from '../errors.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { keyString, type ObjectKey } from '../stores/store.js';
import type { ValueLocation } from './codec.js';
import { ObjectLock } from './object-lock.js';
import type { StateFields } from './state-fields.js';

/**
 * Where an object stands towards the store:
 * - `new`: created here, never persisted;
 * - `stored`: exists in the store at {@link ObjectCore.version};
 * - `gone`: its deletion was committed;
 * - `discarded`: its creation was rolled back.
 */
export type Lifecycle = 'new' | 'stored' | 'gone' | 'discarded';

/** A unit of work that has this object among its pending changes. */
export interface PendingOwner {
  /** Called when the object has nothing left to commit. */
  forget(core: ObjectCore): void;
  /**
   * Called when the object's pending changes are dropped because the store
   * holds a newer version (`expected` was the live version, `actual` the
   * stored one), so that this unit of work reports it instead of later
   * committing nothing as if it had succeeded.
   */
  discarded(core: ObjectCore, expected: number, actual: number): void;
}

/**
 * What the object layer needs from the runtime that owns an object: every
 * write, call and delete passes through it (turns, undo records, sessions).
 */
export interface ObjectHost {
  /** Runs before a state field changes; may refuse by throwing. */
  beforeWrite(core: ObjectCore, prop: string): void;
  /** Calls a `@method`; a streaming one returns an async iterator instead of a promise. */
  invoke(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncIterable<unknown>;
  /** Runs a `@getter` or `@setter`. */
  access(core: ObjectCore, accessor: AccessorMeta, args: unknown[]): Promise<unknown>;
  deleteObject(core: ObjectCore): Promise<void>;
  checkpoint(core: ObjectCore): Promise<void>;
  refresh(core: ObjectCore): Promise<void>;
}

/**
 * The SDK's side of one live object: identity, version, what changed since
 * the last commit, and who holds its turn. The application sees only the
 * proxy; this record never leaves the SDK.
 */
export class ObjectCore {
  readonly keyString: string;
  version = 0;
  lifecycle: Lifecycle;
  /** A delete waits for the next commit. */
  deleted = false;
  /** Encoded value of each field as the store last saw it, by field position (an array: smaller than a Map per object). */
  private committed: (string | undefined)[] | undefined;
  /** Fields written since the last commit (a superset: the commit compares encodings). */
  dirty: Set<string> | undefined;
  /** Grows with every write; a commit keeps fields dirty if it moved while the commit ran. */
  writeSeq = 0;
  /** Sessions that will commit this object. */
  owners: Set<PendingOwner> | undefined;
  /** When the object started waiting for a commit (ms since epoch); `undefined` when nothing waits. */
  pendingSince: number | undefined;
  /** Created on the first turn and dropped when idle, so idle objects stay small. */
  lock: ObjectLock | undefined;

  constructor(
    readonly key: ObjectKey,
    readonly meta: ClassMeta,
    readonly fields: StateFields,
    /** The plain instance behind the proxy. */
    readonly target: Record<string, unknown>,
    /** What the application holds. */
    readonly proxy: object,
    readonly host: ObjectHost,
    lifecycle: Lifecycle,
  ) {
    this.keyString = keyString(key);
    this.lifecycle = lifecycle;
  }

  /** True when a commit has something to write for this object. */
  get hasPendingChanges(): boolean {
    if (this.deleted) return this.lifecycle === 'stored';
    return this.lifecycle === 'new' || (this.dirty !== undefined && this.dirty.size > 0);
  }

  /** True once the object can no longer be used: deleted (pending or committed) or discarded. */
  get unusable(): boolean {
    return this.deleted || this.lifecycle === 'gone' || this.lifecycle === 'discarded';
  }

  assertUsable(): void {
    if (this.unusable) throw new ObjectDeletedError(this.key);
  }

  /** Applies one change to a state field: the host records it first, then it is marked dirty. */
  write(prop: string, mutate: () => void): void {
    this.assertUsable();
    this.host.beforeWrite(this, prop);
    mutate();
    this.markDirty(prop);
  }

  /** The encoding the store last saw for a field. */
  committedText(prop: string): string | undefined {
    return this.committed?.[this.fields.indexOf(prop)];
  }

  /** Records what the store now holds for a field. */
  setCommitted(prop: string, text: string): void {
    const i = this.fields.indexOf(prop);
    if (i < 0) return;
    (this.committed ??= new Array<string | undefined>(this.fields.props.length))[i] = text;
  }

  markDirty(prop: string): void {
    (this.dirty ??= new Set()).add(prop);
    this.writeSeq += 1;
  }

  ensureLock(): ObjectLock {
    return (this.lock ??= new ObjectLock());
  }

  /** Releases the turn and drops the lock object when nobody waits. */
  releaseLock(holder: object): void {
    if (this.lock?.release(holder) === true) this.lock = undefined;
  }

  /** True while someone holds the turn or waits to take it. */
  get locked(): boolean {
    return this.lock?.locked === true;
  }

  location(path: string): ValueLocation {
    return { clsId: this.key.clsId, objectId: this.key.objectId, field: path };
  }
}
