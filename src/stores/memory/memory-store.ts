/**
 * The in-memory backend: the reference implementation of the store contract,
 * for tests, examples and single-process development. Nothing survives the
 * process.
 */
import { ConflictError, InvalidArgumentError, StoreError, type VersionConflict } from '../../errors.js';
import { rejected } from '../../promises.js';
import { describeValue as describe } from '../../describe.js';
import { checkBatch, checkDueArgs, checkKey, checkListOptions, checkPartition, encodeCursor, refuseFence } from '../validate.js';
import {
  keyString,
  TRUSTED_BATCH,
  type ApplyOptions,
  type DueObject,
  type DueOptions,
  type ListOptions,
  type ListPage,
  type ObjectKey,
  type Store,
  type StoredObject,
  type WriteOp,
} from '../store.js';

interface MemoryObject {
  version: number;
  readonly entries: Map<string, Uint8Array>;
}

/**
 * A {@link Store} held in maps. Bytes are copied on the way in and out, so a
 * caller that mutates a buffer it passed or received cannot change stored
 * state behind the store's back (the contract promises the same isolation a
 * database gives).
 *
 * Every call completes synchronously inside its promise, so batches are
 * atomic without locks. `open()` is optional: the store is usable as soon as
 * it is constructed.
 *
 * @example
 * const store = new MemoryStore();
 * await store.apply([{ kind: 'put', key, expectedVersion: 0, set: new Map([['n', bytes]]) }]);
 */
export class MemoryStore implements Store {
  readonly name = 'memory';
  /** Partition (class id + partition id) -> object id -> object, so `list` only looks at one partition. */
  private readonly partitions = new Map<string, Map<string, MemoryObject>>();
  /** keyString -> wake time, beside the objects: `due` looks only at objects that have one. */
  private readonly wakes = new Map<string, { readonly key: ObjectKey; readonly wakeAt: number }>();
  private closed = false;

  open(): Promise<void> {
    return this.run(() => undefined);
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run(() => {
      checkKey(key, 'key');
      return this.read(key);
    });
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.run(() => {
      const given: unknown = keys; // not `keys`: Array.isArray would narrow it to any[]
      if (!Array.isArray(given)) throw new InvalidArgumentError('keys', `must be an array, got ${describe(given)}`);
      keys.forEach((key, i) => { checkKey(key, 'keys', `keys[${i}]`); });
      return keys.map((key) => this.read(key));
    });
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.run(() => this.write(ops, options));
  }

  applyNow(ops: readonly WriteOp[], options?: ApplyOptions): readonly number[] {
    return this.now(() => this.write(ops, options));
  }

  list(clsId: string, partitionId: number, options: ListOptions = {}): Promise<ListPage> {
    return this.run(() => {
      checkPartition(clsId, partitionId);
      const { prefix, limit, after } = checkListOptions(options);
      const objects = this.partitions.get(partitionKey(clsId, partitionId));
      const ids = [...(objects?.keys() ?? [])]
        .filter((id) => id.startsWith(prefix) && (after === undefined || compareBinary(id, after) > 0))
        .sort(compareBinary);
      const page = ids.slice(0, limit).map((objectId) => {
        const object = objects?.get(objectId);
        return { objectId, version: object?.version ?? 0, entryCount: object?.entries.size ?? 0 };
      });
      const last = page.at(-1);
      return ids.length > limit && last !== undefined ? { objects: page, nextCursor: encodeCursor(last.objectId) } : { objects: page };
    });
  }

  /** Sorts the objects that have a wake time: for memory, a scan of those is the index. */
  due(until: number, options?: DueOptions): Promise<readonly DueObject[]> {
    return this.run(() => {
      const bound = checkDueArgs(until, options);
      return [...this.wakes.values()]
        .filter((wake) => wake.wakeAt <= bound.until)
        .sort((a, b) => a.wakeAt - b.wakeAt || compareKeys(a.key, b.key))
        .slice(0, bound.limit)
        .map(({ key, wakeAt }) => ({ key: copyKey(key), wakeAt, version: this.find(key)?.version ?? 0 }));
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.partitions.clear();
    this.wakes.clear();
    return Promise.resolve();
  }

  /** Checks and applies one batch: every version first, so a conflict writes nothing. */
  private write(ops: readonly WriteOp[], options: ApplyOptions | undefined): number[] {
    // The SDK's own batches are well-formed by construction.
    if (options?.[TRUSTED_BATCH] !== true) checkBatch(ops, options);
    refuseFence(options, 'memory');
    const conflicts: VersionConflict[] = [];
    for (const op of ops) {
      const actual = this.find(op.key)?.version ?? 0;
      if (op.expectedVersion !== undefined && op.expectedVersion !== actual) {
        conflicts.push({ ref: copyKey(op.key), expected: op.expectedVersion, actual });
      }
    }
    if (conflicts.length > 0) throw new ConflictError(conflicts);
    return ops.map((op) => {
      if (op.kind === 'delete') return this.delete(op.key);
      this.wake(op.key, op.wakeAt);
      return this.put(op.key, op.set, op.remove);
    });
  }

  /** Runs a synchronous body as a promise, so that validation errors reject instead of throwing. */
  private run<T>(body: () => T): Promise<T> {
    try {
      return Promise.resolve(this.now(body));
    } catch (error) {
      return rejected(error);
    }
  }

  /** Runs `body` on an open store; anything it throws that is not an `Error` becomes a `StoreError`. */
  private now<T>(body: () => T): T {
    try {
      if (this.closed) throw new StoreError('store is closed', { transient: false });
      return body();
    } catch (error) {
      throw error instanceof Error ? error : new StoreError('memory store failed', { transient: false }, { cause: error });
    }
  }

  private find(key: ObjectKey): MemoryObject | undefined {
    return this.partitions.get(partitionKey(key.clsId, key.partitionId))?.get(key.objectId);
  }

  private read(key: ObjectKey): StoredObject | undefined {
    const object = this.find(key);
    if (object === undefined) return undefined;
    const entries = new Map<string, Uint8Array>();
    for (const [entryKey, value] of object.entries) entries.set(entryKey, value.slice());
    return { key: copyKey(key), version: object.version, entries };
  }

  private put(key: ObjectKey, set: PutSet, remove: readonly string[] | undefined): number {
    const pk = partitionKey(key.clsId, key.partitionId);
    let objects = this.partitions.get(pk);
    if (objects === undefined) {
      objects = new Map();
      this.partitions.set(pk, objects);
    }
    let object = objects.get(key.objectId);
    if (object === undefined) {
      object = { version: 0, entries: new Map() };
      objects.set(key.objectId, object);
    }
    object.version += 1;
    for (const entryKey of remove ?? []) object.entries.delete(entryKey);
    for (const [entryKey, value] of set ?? []) object.entries.set(entryKey, new Uint8Array(value));
    return object.version;
  }

  /** A number sets the wake time, null clears it, undefined leaves it. */
  private wake(key: ObjectKey, wakeAt: number | null | undefined): void {
    if (wakeAt === undefined) return;
    if (wakeAt === null) this.wakes.delete(keyString(key));
    else this.wakes.set(keyString(key), { key: copyKey(key), wakeAt });
  }

  private delete(key: ObjectKey): number {
    this.wakes.delete(keyString(key));
    const pk = partitionKey(key.clsId, key.partitionId);
    const objects = this.partitions.get(pk);
    objects?.delete(key.objectId);
    if (objects?.size === 0) this.partitions.delete(pk);
    return 0;
  }
}

type PutSet = ReadonlyMap<string, Uint8Array> | undefined;

function partitionKey(clsId: string, partitionId: number): string {
  return `${clsId}\u0000${String(partitionId)}`;
}

function copyKey(key: ObjectKey): ObjectKey {
  return { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId };
}

/** The order of keys every store gives: class, then partition, then object id. */
function compareKeys(a: ObjectKey, b: ObjectKey): number {
  return compareBinary(a.clsId, b.clsId) || a.partitionId - b.partitionId || compareBinary(a.objectId, b.objectId);
}

/**
 * Orders strings by code point, which is the byte order of their UTF-8 form:
 * the order SQLite's BINARY collation (and PostgreSQL's "C") give. Plain `<`
 * compares UTF-16 units and would put U+10000.. before U+E000..U+FFFF.
 */
function compareBinary(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (code points above U+FFFF) after U+E000..U+FFFF. */
function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
