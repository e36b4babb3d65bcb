/**
 * The SQLite backend on better-sqlite3: durable state for one machine, with
 * any number of processes sharing one file (WAL, one writer at a time).
 */
import { rejected } from '../../promises.js';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import { TRUSTED_BATCH, type ApplyOptions, type DueObject, type DueOptions, type ListOptions, type ListPage, type ObjectKey, type Store, type StoredObject, type WriteOp } from '../store.js';
import { describeValue as describe } from '../../describe.js';
import { checkBatch, checkDueArgs, checkKey, checkListOptions, checkPartition, encodeCursor, prefixEnd, refuseFence } from '../validate.js';
import { translateError } from './errors.js';
import { Connection } from './connection.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file, or `':memory:'` for a private in-memory database. The parent folder must exist. */
  readonly path: string;
  /**
   * `'full'` makes every resolved `apply` survive a power loss; `'normal'` is
   * faster and still survives a crashed or killed process, but may lose the
   * last commits when the machine loses power.
   * @default 'full'
   */
  readonly synchronous?: 'full' | 'normal' | undefined;
  /**
   * How long a write waits for another process's lock before failing with a
   * transient `StoreError`. better-sqlite3 is synchronous: the wait blocks the
   * calling thread, so keep it short.
   * @default 5000
   */
  readonly busyTimeoutMs?: number | undefined;
}

/**
 * A {@link Store} in one SQLite file.
 *
 * Calls made before `open()` open the database on first use, so `open()` is
 * only needed to fail early. Each `apply` is one `BEGIN IMMEDIATE`
 * transaction: versions are checked, then written, under the database's
 * single write lock, so processes sharing the file never interleave a batch.
 *
 * @example
 * const store = new SqliteStore({ path: '.oaas/state.db' });
 * await store.open();
 */
export class SqliteStore implements Store {
  readonly name = 'sqlite';
  private readonly path: string;
  private readonly synchronous: 'full' | 'normal';
  private readonly busyTimeoutMs: number;
  private connection: Connection | undefined;
  private closed = false;

  constructor(options: SqliteStoreOptions) {
    // Typed callers cannot pass bad values, but configuration read from files and plain JS can.
    if (typeof options !== 'object' || (options as unknown) === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
    const { path, synchronous = 'full', busyTimeoutMs = 5000 } = options as Record<keyof SqliteStoreOptions, unknown>;
    if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('options.path', `must be a non-empty string, got ${describe(path)}`);
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw new InvalidArgumentError('options.synchronous', `must be 'full' or 'normal', got ${describe(synchronous)}`);
    }
    if (typeof busyTimeoutMs !== 'number' || !Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new InvalidArgumentError('options.busyTimeoutMs', `must be a non-negative integer, got ${describe(busyTimeoutMs)}`);
    }
    this.path = path;
    this.synchronous = synchronous;
    this.busyTimeoutMs = busyTimeoutMs;
  }

  open(): Promise<void> {
    return this.run('open', () => {
      this.connect();
    });
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run('get', () => {
      checkKey(key, 'key');
      return this.connect().read(key);
    });
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.run('getMany', () => {
      const given: unknown = keys; // not `keys`: Array.isArray would narrow it to any[]
      if (!Array.isArray(given)) throw new InvalidArgumentError('keys', `must be an array, got ${describe(given)}`);
      keys.forEach((key, i) => { checkKey(key, 'keys', `keys[${i}]`); });
      return keys.length === 0 ? [] : this.connect().readMany(keys);
    });
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.run('apply', () => this.write(ops, options));
  }

  applyNow(ops: readonly WriteOp[], options?: ApplyOptions): readonly number[] {
    return this.now('apply', () => this.write(ops, options));
  }

  list(clsId: string, partitionId: number, options: ListOptions = {}): Promise<ListPage> {
    return this.run('list', () => {
      checkPartition(clsId, partitionId);
      const { prefix, limit, after } = checkListOptions(options);
      // One lower bound, so the primary key index starts at the right row:
      // the cursor when it lies within the prefix range, else the prefix.
      const useAfter = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) >= 0;
      const rows = this.connect().list(clsId, partitionId, useAfter ? after : prefix, !useAfter, prefixEnd(prefix), limit + 1);
      const objects = rows.slice(0, limit);
      const last = objects.at(-1);
      return rows.length > limit && last !== undefined ? { objects, nextCursor: encodeCursor(last.objectId) } : { objects };
    });
  }

  /** Reads the partial index `oaas_objects_wake`: only objects with a wake time, in due order. */
  due(until: number, options?: DueOptions): Promise<readonly DueObject[]> {
    return this.run('due', () => {
      const bound = checkDueArgs(until, options);
      return this.connect().due(bound.until, bound.limit);
    });
  }

  close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    return this.run('close', () => {
      connection?.close();
    }, false);
  }

  /** Opens the database on first use; a failed open leaves nothing behind, so it can be retried. */
  private connect(): Connection {
    return (this.connection ??= Connection.open(this.path, { synchronous: this.synchronous, busyTimeoutMs: this.busyTimeoutMs }));
  }

  /** Checks and writes one batch in one transaction. */
  private write(ops: readonly WriteOp[], options: ApplyOptions | undefined): number[] {
    // Always serializable (one writer at a time), so `options.isolation` is only checked.
    const trusted = options?.[TRUSTED_BATCH] === true;
    if (!trusted) checkBatch(ops, options);
    refuseFence(options, 'sqlite');
    return ops.length === 0 ? [] : this.connect().write(ops, trusted);
  }

  /** Runs a synchronous body as a promise, translating every error at this boundary. */
  private run<T>(operation: string, body: () => T, checkOpen = true): Promise<T> {
    try {
      return Promise.resolve(this.now(operation, body, checkOpen));
    } catch (error) {
      return rejected(error);
    }
  }

  /** Runs a synchronous body, translating every error at this boundary. */
  private now<T>(operation: string, body: () => T, checkOpen = true): T {
    try {
      if (checkOpen && this.closed) throw new StoreError('store is closed', { transient: false });
      return body();
    } catch (error) {
      throw translateError(operation, error);
    }
  }
}
