/**
 * The store contract: the one interface every backend implements.
 *
 * A store knows nothing of sessions, classes or codecs. It keeps objects keyed
 * by (class id, partition id, object id); each object has a version and a map
 * of entries (field key -> bytes). Writes arrive as one atomic batch with an
 * expected version per object (optimistic concurrency).
 *
 * Every backend runs the same conformance suite (`test/stores/store-contract.ts`)
 * and translates its driver's errors at this boundary: callers only ever see
 * `ConflictError`, `StoreError` and `InvalidArgumentError` (and, for a
 * fenced batch, `FencedError`).
 */

import type { ObjectKey } from '../identity.js';

export { keyString, MAX_PARTITION_ID, type ObjectKey } from '../identity.js';

/** One object as the store holds it. */
export interface StoredObject {
  readonly key: ObjectKey;
  /** Starts at 1 when the object is created and grows by 1 with every write. */
  readonly version: number;
  readonly entries: ReadonlyMap<string, Uint8Array>;
  /**
   * Where the store found the object (the SQLite store: its row id), for the
   * SDK to hand back in a trusted put of the same object so that the store
   * finds the row without a key lookup. Opaque; a store checks it and falls
   * back to the key when it no longer holds.
   */
  readonly hint?: number | undefined;
}

/**
 * Create or update one object: set some entries, remove others.
 * Entries not named are left as they are.
 */
export interface PutOp {
  readonly kind: 'put';
  readonly key: ObjectKey;
  /**
   * The version the writer read: `0` means the object must not exist yet,
   * `undefined` skips the check. A mismatch fails the whole batch with
   * `ConflictError`.
   */
  readonly expectedVersion?: number | undefined;
  readonly set?: ReadonlyMap<string, Uint8Array> | undefined;
  readonly remove?: readonly string[] | undefined;
  /**
   * Read only in a {@link TRUSTED_BATCH}: the object's whole state after this
   * write, as one JSON object whose members are the entries' JSON texts
   * (`{"count":7,"name":"a"}`), with `entryCount` members. It describes the
   * same write as `set` and `remove` (the delta), so a store may use either:
   * stores that keep an object in one row write it as it is.
   */
  readonly state?: string | undefined;
  readonly entryCount?: number | undefined;
  /** Read only in a {@link TRUSTED_BATCH}: the object's {@link StoredObject.hint}, if it has one. */
  readonly hint?: number | undefined;
  /**
   * Read only in a {@link TRUSTED_BATCH}: the entry keys this put writes, so
   * that a store publishing changes need not build `set` to name them.
   */
  readonly changed?: readonly string[] | undefined;
  /**
   * When the object next wants the runtime's attention (ms since the epoch,
   * an integer): a reminder falls due, say. The store indexes it so that
   * {@link Store.due} finds the object without scanning the others. `null`
   * clears it; `undefined` leaves it as it is (a new object has none). A
   * delete clears it. The SDK's puts name it when it may have changed.
   */
  readonly wakeAt?: number | null | undefined;
}

/**
 * A put of a {@link TRUSTED_BATCH}: a store that keeps hints writes the
 * object's new one into `hint` once the put is written, and the SDK keeps
 * it for the object's next commit.
 */
export interface TrustedPut extends PutOp {
  hint: number | undefined;
  /**
   * For stores that send text: appends the entries `set` holds to `into` as
   * (entry key, JSON text) pairs, the text before UTF-8 encoding, and
   * returns how many pairs it appended. Absent: read `set`.
   */
  appendSetTexts?(into: unknown[]): number;
}

/** Delete one object with all its entries. Deleting an absent object is a no-op unless a version is expected. */
export interface DeleteOp {
  readonly kind: 'delete';
  readonly key: ObjectKey;
  readonly expectedVersion?: number | undefined;
}

/** One write in a batch. */
export type WriteOp = PutOp | DeleteOp;

/** Transaction isolation a batch asks for; stores that are always serializable ignore it. */
export type Isolation = 'read-committed' | 'repeatable-read' | 'serializable';

/** One slot a fenced batch writes in, with the epoch its writer owns it at. */
export interface FencedSlot {
  readonly slot: number;
  readonly epoch: number;
}

/**
 * The fencing token of a cluster member's commit (see `cluster/membership.ts`):
 * the batch is written only if, in the same transaction or script, every slot
 * is owned by `memberId` at exactly its `epoch` under a lease that has not
 * lapsed by the store's clock; otherwise nothing is written and `apply`
 * rejects with `FencedError`. Every object the batch writes must fall in one
 * of `slots` (`slotOf(key)`). Only the shared stores (PostgreSQL, Redis)
 * accept a fence.
 */
export interface CommitFence {
  readonly memberId: string;
  readonly slots: readonly FencedSlot[];
}

/**
 * Marks a batch the SDK built itself from live objects (`ApplyOptions`):
 * well-formed by construction, each object once, entries as canonical JSON
 * text, puts carrying `state`. A store may skip its argument checks for it
 * and write `state` directly. Not part of the public API: every other caller
 * goes through the checks.
 */
export const TRUSTED_BATCH: unique symbol = Symbol('oaas.trustedBatch');

/** Options of {@link Store.apply}. */
export interface ApplyOptions {
  readonly isolation?: Isolation | undefined;
  /** Write only while the writer still owns the batch's slots. */
  readonly fence?: CommitFence | undefined;
  /** See {@link TRUSTED_BATCH}. */
  readonly [TRUSTED_BATCH]?: true | undefined;
}

/** Options of {@link Store.list}. */
export interface ListOptions {
  /** Only object ids starting with this string. */
  readonly prefix?: string | undefined;
  /** Page size, 1 to 1000. @default 100 */
  readonly limit?: number | undefined;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string | undefined;
}

/** One row of {@link ListPage}. */
export interface ListedObject {
  readonly objectId: string;
  readonly version: number;
  readonly entryCount: number;
}

/** A page of objects of one class and partition, ordered by object id. */
export interface ListPage {
  readonly objects: readonly ListedObject[];
  /** Present when more objects may follow; pass it back as `cursor`. */
  readonly nextCursor?: string | undefined;
}

/** The contract every backend implements. */
export interface Store {
  /** A short name for logs and health output, e.g. `sqlite`. */
  readonly name: string;
  /** Connects and creates the schema if needed. Idempotent. */
  open(): Promise<void>;
  /** Reads one object, or `undefined` when it does not exist. */
  get(key: ObjectKey): Promise<StoredObject | undefined>;
  /** Reads many objects; the result is aligned with `keys`. */
  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]>;
  /**
   * Applies a batch atomically: all ops or none. Resolves with the new version
   * of each op's object, aligned with `ops` (0 for a delete). Rejects with
   * `ConflictError` listing every version mismatch, `FencedError` when a
   * `fence` does not hold, `StoreError` on a store failure,
   * `InvalidArgumentError` when a batch names one object twice.
   */
  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]>;
  /**
   * Optional, for stores whose writes are synchronous (memory, SQLite):
   * `apply` done before it returns. The same checks, effects and errors,
   * thrown instead of rejected. A commit with no other commit in line calls
   * it rather than `apply`, which saves the commit its promises and
   * event-loop turns.
   */
  applyNow?(ops: readonly WriteOp[], options?: ApplyOptions): readonly number[];
  /** Lists objects of one class and partition, ordered by object id. */
  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage>;
  /** Releases connections and files. Idempotent; later calls reject with a non-transient `StoreError`. */
  close(): Promise<void>;
  /**
   * Optional: the stores several processes share publish every applied batch
   * in the transaction (or script) that writes it, so a change is published
   * if and only if it was written; `subscribe` hears what the other store
   * instances on the same database wrote (never this instance's own batches),
   * in commit order. Resolves once listening; the returned function stops it.
   * `close()` stops every subscription. A store without it (memory, SQLite)
   * has no events from other processes.
   */
  subscribe?(listener: StoreChangeListener): Promise<() => Promise<void>>;
  /**
   * Optional: the objects whose {@link PutOp.wakeAt} is at or before `until`,
   * earliest first (ties by key), found through an index on the wake time.
   * A store without it (ODGM) cannot run reminders or triggers.
   */
  due?(until: number, options?: DueOptions): Promise<readonly DueObject[]>;
}

/** Options of {@link Store.due}. */
export interface DueOptions {
  /** At most this many objects, 1 to 1000. @default 100 */
  readonly limit?: number | undefined;
}

/** One object {@link Store.due} found. */
export interface DueObject {
  readonly key: ObjectKey;
  readonly wakeAt: number;
  readonly version: number;
}

/** One object's committed version, as a store publishes it (see {@link Store.subscribe}). */
export interface StoreChange {
  readonly key: ObjectKey;
  /** The version written; for a delete, the deleted object's last version plus one. */
  readonly version: number;
  readonly kind: 'create' | 'update' | 'delete';
  /** The entry keys the write set or removed (empty for a delete). */
  readonly changed: readonly string[];
}

/** Receives the changes of one batch another store instance applied. */
export type StoreChangeListener = (changes: readonly StoreChange[]) => void;

/**
 * The change an applied op made, given the version `apply` returned for it
 * (0 for a delete) and, for a delete, the version it removed: `undefined`
 * when the op wrote nothing (a delete of an absent object).
 */
export function changeOf(op: WriteOp, version: number, deletedVersion?: number): StoreChange | undefined {
  const key = { clsId: op.key.clsId, partitionId: op.key.partitionId, objectId: op.key.objectId };
  if (op.kind === 'delete') {
    const last = deletedVersion ?? op.expectedVersion;
    return last === undefined || last === 0 ? undefined : { key, version: last + 1, kind: 'delete', changed: [] };
  }
  return { key, version, kind: version === 1 ? 'create' : 'update', changed: changedEntries(op) };
}

/** The entry keys a put changes: those it names, or else those it sets and removes. */
export function changedEntries(op: PutOp): readonly string[] {
  return op.changed ?? [...(op.set?.keys() ?? []), ...(op.remove ?? [])];
}

/** Default and maximum page size of {@link Store.list}. */
export const LIST_LIMIT = { default: 100, max: 1000 } as const;

/** Default and maximum of {@link DueOptions.limit}. */
export const DUE_LIMIT = { default: 100, max: 1000 } as const;

