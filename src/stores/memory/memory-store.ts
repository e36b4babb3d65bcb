/**
 * The in-memory backend: the reference implementation of the store contract,
 * for tests, examples and single-process development. Nothing survives the
 * process.
 */
import { ConflictError, InvalidArgumentError, StoreError, type VersionConflict } from '../../errors.js';
import {
  LIST_LIMIT,
  keyString,
  type ApplyOptions,
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
    return this.run(() => {
      checkBatch(ops, options);
      // Check every version before touching anything: a conflict writes nothing.
      const conflicts: VersionConflict[] = [];
      for (const op of ops) {
        const actual = this.find(op.key)?.version ?? 0;
        if (op.expectedVersion !== undefined && op.expectedVersion !== actual) {
          conflicts.push({ ref: copyKey(op.key), expected: op.expectedVersion, actual });
        }
      }
      if (conflicts.length > 0) throw new ConflictError(conflicts);
      return ops.map((op) => (op.kind === 'delete' ? this.delete(op.key) : this.put(op.key, op.set, op.remove)));
    });
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

  close(): Promise<void> {
    this.closed = true;
    this.partitions.clear();
    return Promise.resolve();
  }

  /** Runs a synchronous body as a promise, so that validation errors reject instead of throwing. */
  private run<T>(body: () => T): Promise<T> {
    try {
      if (this.closed) throw new StoreError('store is closed', { transient: false });
      return Promise.resolve(body());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new StoreError('memory store failed', { transient: false }, { cause: error }));
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

  private delete(key: ObjectKey): number {
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

/*
 * Argument checks. The SQLite backend has the same rules (see
 * `sqlite/errors.ts`); callers are other SDK layers, but a store is also a
 * public plug-in point, so it refuses malformed input with a coded error
 * instead of storing something no other backend could read.
 */

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value);
}

function checkKey(key: unknown, argument: string, path = argument): asserts key is ObjectKey {
  if (typeof key !== 'object' || key === null) throw new InvalidArgumentError(argument, `${path} must be an object key, got ${describe(key)}`);
  const { clsId, partitionId, objectId } = key as Record<string, unknown>;
  if (!isText(clsId) || clsId === '') throw new InvalidArgumentError(argument, `${path}.clsId must be a non-empty string, got ${describe(clsId)}`);
  if (typeof partitionId !== 'number' || !Number.isSafeInteger(partitionId) || partitionId < 0) {
    throw new InvalidArgumentError(argument, `${path}.partitionId must be a non-negative safe integer, got ${describe(partitionId)}`);
  }
  if (!isText(objectId) || objectId === '') throw new InvalidArgumentError(argument, `${path}.objectId must be a non-empty string, got ${describe(objectId)}`);
}

function checkPartition(clsId: unknown, partitionId: unknown): void {
  if (!isText(clsId) || clsId === '') throw new InvalidArgumentError('clsId', `must be a non-empty string, got ${describe(clsId)}`);
  if (typeof partitionId !== 'number' || !Number.isSafeInteger(partitionId) || partitionId < 0) {
    throw new InvalidArgumentError('partitionId', `must be a non-negative safe integer, got ${describe(partitionId)}`);
  }
}

function checkBatch(ops: unknown, options: unknown): asserts ops is readonly WriteOp[] {
  if (!Array.isArray(ops)) throw new InvalidArgumentError('ops', `must be an array, got ${describe(ops)}`);
  if (options !== undefined) {
    const isolation = typeof options === 'object' && options !== null ? (options as Record<string, unknown>).isolation : options;
    if (isolation !== undefined && isolation !== 'read-committed' && isolation !== 'repeatable-read' && isolation !== 'serializable') {
      throw new InvalidArgumentError('options', `isolation must be read-committed, repeatable-read or serializable, got ${describe(isolation)}`);
    }
  }
  const seen = new Set<string>();
  (ops as unknown[]).forEach((op, i) => {
    const path = `ops[${i}]`;
    if (typeof op !== 'object' || op === null) throw new InvalidArgumentError('ops', `${path} must be an object, got ${describe(op)}`);
    const { kind, key, expectedVersion, set, remove } = op as Record<string, unknown>;
    if (kind !== 'put' && kind !== 'delete') throw new InvalidArgumentError('ops', `${path}.kind must be 'put' or 'delete', got ${describe(kind)}`);
    checkKey(key, 'ops', `${path}.key`);
    if (expectedVersion !== undefined && (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0)) {
      throw new InvalidArgumentError('ops', `${path}.expectedVersion must be a non-negative safe integer or undefined, got ${describe(expectedVersion)}`);
    }
    const id = keyString(key);
    if (seen.has(id)) throw new InvalidArgumentError('ops', `${path} names ${key.clsId}/${key.partitionId}/${key.objectId} a second time; a batch may name each object once`);
    seen.add(id);
    if (kind === 'put') checkChanges(set, remove, path);
  });
}

function checkChanges(set: unknown, remove: unknown, path: string): void {
  if (set !== undefined && !(set instanceof Map)) throw new InvalidArgumentError('ops', `${path}.set must be a Map, got ${describe(set)}`);
  for (const [entryKey, value] of (set as Map<unknown, unknown> | undefined) ?? []) {
    if (!isText(entryKey)) throw new InvalidArgumentError('ops', `${path}.set has a key that is not a well-formed string: ${describe(entryKey)}`);
    if (!(value instanceof Uint8Array)) throw new InvalidArgumentError('ops', `${path}.set.get(${JSON.stringify(entryKey)}) must be a Uint8Array, got ${describe(value)}`);
  }
  if (remove !== undefined && !Array.isArray(remove)) throw new InvalidArgumentError('ops', `${path}.remove must be an array, got ${describe(remove)}`);
  for (const entryKey of (remove as unknown[] | undefined) ?? []) {
    if (!isText(entryKey)) throw new InvalidArgumentError('ops', `${path}.remove has an entry key that is not a well-formed string: ${describe(entryKey)}`);
    // Setting and removing one entry in one op has no obvious meaning; refuse it rather than pick an order.
    if ((set as Map<unknown, unknown> | undefined)?.has(entryKey) === true) {
      throw new InvalidArgumentError('ops', `${path} both sets and removes entry ${JSON.stringify(entryKey)}`);
    }
  }
}

function checkListOptions(options: unknown): { prefix: string; limit: number; after: string | undefined } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
  const { prefix = '', limit = LIST_LIMIT.default, cursor } = options as Record<string, unknown>;
  if (!isText(prefix)) throw new InvalidArgumentError('prefix', `must be a well-formed string, got ${describe(prefix)}`);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
    throw new InvalidArgumentError('limit', `must be an integer from 1 to ${LIST_LIMIT.max}, got ${describe(limit)}`);
  }
  return { prefix, limit, after: cursor === undefined ? undefined : decodeCursor(cursor) };
}

/** A cursor is the last listed object id, base64url-encoded: opaque to callers, stable across backends. */
function encodeCursor(objectId: string): string {
  return Buffer.from(objectId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): string {
  const malformed = (cause?: unknown): InvalidArgumentError =>
    new InvalidArgumentError('cursor', `${describe(cursor)} is not a cursor this store returned`, cause === undefined ? undefined : { cause });
  if (typeof cursor !== 'string' || !CURSOR_PATTERN.test(cursor)) throw malformed();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length === 0 || bytes.toString('base64url') !== cursor) throw malformed();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw malformed(error);
  }
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
