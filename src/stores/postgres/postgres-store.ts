/**
 * The PostgreSQL backend on node-postgres (`pg`): durable state shared by any
 * number of processes and machines. `pg` is an optional peer dependency,
 * loaded on first use, so users of other backends need not install it.
 */
import type { Pool } from 'pg';
import { describeValue as describe } from '../../describe.js';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import { createPool } from './pool.js';
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
  type StoreChangeListener,
  type StoredObject,
  type WriteOp,
} from '../store.js';
import { decodeDocument } from '../state-document.js';
import { checkBatch, checkDueArgs, checkListOptions, checkPartition, encodeCursor, prefixEnd } from '../validate.js';
import { ensureClusterSchema } from './cluster-schema.js';
import { translateError } from './errors.js';
import { PostgresListener } from './events.js';
import { applyBatch, applyStates, isWholeState, prepare } from './writes.js';
import { ChangeListeners, newOrigin } from '../change-feed.js';
import { checkStorableKey, checkStorableList, columns, ensureSchema, ensureStorageOptions, keyOf, SQL, type DueRow, type ListRow, type ReadRow } from './schema.js';

/** Options of {@link PostgresStore}. */
export interface PostgresStoreOptions {
  /** Connection string, e.g. `postgres://app:secret@db:5432/app`. Never logged or put in errors. Unused when `pool` is given. */
  readonly url: string;
  /** Most connections the store opens. @default 10 */
  readonly poolSize?: number | undefined;
  /** How long connecting, or waiting for a free connection, may take before a transient `StoreError`. @default 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /** The server cancels a statement that runs longer (a transient `StoreError`); `0` turns the limit off. @default 30000 */
  readonly statementTimeoutMs?: number | undefined;
  /**
   * Cluster mode: the membership lease. A fenced batch's transaction runs
   * with `lock_timeout`, `idle_in_transaction_session_timeout` and
   * `statement_timeout` of half of it, so a process paused in the middle of
   * one holds its slot locks, which a takeover waits for, no longer than
   * that. Unfenced batches are not affected.
   * @default 10000
   */
  readonly leaseMs?: number | undefined;
  /**
   * A pool to use instead of creating one from the settings above, for tests
   * or to share one pool. The caller owns it: `close()` leaves it open.
   */
  readonly pool?: PostgresPool | undefined;
}

/**
 * The members of a node-postgres `Pool` the store relies on; a `pg.Pool` is
 * one. Declared here rather than taken from `pg`, so these declarations
 * type-check in applications without `@types/pg`.
 */
export interface PostgresPool {
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Connection counts for health checks. */
export interface PoolStats {
  readonly total: number;
  readonly idle: number;
  /** Callers waiting for a free connection. */
  readonly waiting: number;
}

/**
 * A {@link Store} in a PostgreSQL database.
 *
 * Each `apply` is one transaction at the isolation the batch asks for, with
 * a constant number of set-based statements whatever its size (see
 * `writes.ts`): the SDK's own batches check each version as they write; other
 * batches lock and check first (`SELECT ... FOR UPDATE`), then upsert. A serialization failure
 * or deadlock means another writer won: it is reported as a `ConflictError`
 * with versions read after the rollback, so a retrying scope runs again on
 * fresh state. Calls made before `open()` open the store on first use.
 *
 * @example
 * const store = new PostgresStore({ url: process.env.DATABASE_URL ?? 'postgres://localhost/app' });
 * await store.open();
 */
export class PostgresStore implements Store {
  readonly name = 'postgres';
  private readonly options: { url: string; poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number; leaseMs: number };
  private readonly injected: Pool | undefined;
  private pool: Pool | undefined;
  private opening: Promise<Pool> | undefined;
  /** The cluster tables, created on the first fenced batch; a failure is retried by the next one. */
  private clusterTables: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Tells this instance's own notifications from the other processes'. */
  private readonly origin = newOrigin();
  private readonly feed = new ChangeListeners();
  private listener: PostgresListener | undefined;
  /** A pooled connection that breaks while idle is dropped by the pool; the next call reports the outage. */
  private readonly onIdleError = (): void => undefined;

  constructor(options: PostgresStoreOptions) {
    // Typed callers cannot pass bad values, but configuration read from files and plain JS can.
    if (typeof options !== 'object' || (options as unknown) === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
    const { url, poolSize = 10, connectTimeoutMs = 5000, statementTimeoutMs = 30_000, leaseMs = 10_000, pool } = options as Record<keyof PostgresStoreOptions, unknown>;
    if (pool !== undefined && (typeof pool !== 'object' || pool === null || typeof (pool as Pool).connect !== 'function')) {
      throw new InvalidArgumentError('options.pool', `must be a pg Pool, got ${describe(pool)}`);
    }
    if (pool === undefined && (typeof url !== 'string' || url === '')) throw new InvalidArgumentError('options.url', `must be a non-empty connection string, got ${typeof url}`);
    const integer = (name: string, value: unknown, min: number): number => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError(`options.${name}`, `must be an integer of at least ${min}, got ${describe(value)}`);
      return value;
    };
    this.options = {
      url: typeof url === 'string' ? url : '',
      poolSize: integer('poolSize', poolSize, 1),
      connectTimeoutMs: integer('connectTimeoutMs', connectTimeoutMs, 1),
      statementTimeoutMs: integer('statementTimeoutMs', statementTimeoutMs, 0),
      // Two, so that half of it is a timeout PostgreSQL accepts (0 would turn the timeouts off).
      leaseMs: integer('leaseMs', leaseMs, 2),
    };
    this.injected = pool as Pool | undefined;
  }

  open(): Promise<void> {
    return this.run('open', async () => {
      await this.ready();
    });
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run('get', async () => {
      checkStorableKey(key, 'key', 'key');
      return (await readObjects(await this.ready(), [key]))[0];
    });
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.run('getMany', async () => {
      const given: unknown = keys; // not `keys`: Array.isArray would narrow it to any[]
      if (!Array.isArray(given)) throw new InvalidArgumentError('keys', `must be an array, got ${describe(given)}`);
      keys.forEach((key, i) => { checkStorableKey(key, 'keys', `keys[${i}]`); });
      return keys.length === 0 ? [] : readObjects(await this.ready(), keys);
    });
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.run('apply', async () => {
      const trusted = options?.[TRUSTED_BATCH] === true;
      if (!trusted) checkBatch(ops, options);
      const prepared = ops.map((op, i) => prepare(op, i, trusted));
      if (prepared.length === 0) return [];
      const pool = await this.ready();
      const fence = options?.fence;
      if (fence !== undefined) await this.ensureClusterTables(pool);
      const fenced = fence === undefined ? undefined : { fence, ...this.fenceTimeouts() };
      const isolation = options?.isolation ?? 'read-committed';
      return trusted && prepared.every(isWholeState) ? applyStates(pool, prepared, isolation, fenced, this.origin) : applyBatch(pool, prepared, isolation, fenced, this.origin);
    });
  }

  /**
   * Hears the batches other store instances on this database commit (every
   * batch notifies `oaas_events` in its transaction). Listening holds one
   * connection of the pool while anyone subscribes.
   */
  subscribe(listener: StoreChangeListener): Promise<() => Promise<void>> {
    return this.run('subscribe', async () => {
      const pool = await this.ready();
      const remove = this.feed.add(listener);
      try {
        if (this.listener === undefined) {
          const started = new PostgresListener(pool, (payload) => {
            this.feed.deliver(payload, this.origin);
          });
          this.listener = started;
          await started.start().catch((error: unknown) => {
            if (this.listener === started) this.listener = undefined;
            throw error;
          });
        }
      } catch (error) {
        remove();
        throw error;
      }
      return async () => {
        remove();
        if (this.feed.size === 0) await this.stopListening();
      };
    });
  }

  list(clsId: string, partitionId: number, options: ListOptions = {}): Promise<ListPage> {
    return this.run('list', async () => {
      checkPartition(clsId, partitionId);
      const { prefix, limit, after } = checkListOptions(options);
      checkStorableList(clsId, partitionId, prefix, after);
      // One lower bound, so the primary key index starts at the right row: the cursor when it lies within the prefix range, else the prefix.
      const useAfter = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) >= 0;
      const upper = prefixEnd(prefix);
      const params: unknown[] = [clsId, partitionId, useAfter ? after : prefix, limit + 1, ...(upper === undefined ? [] : [upper])];
      const pool = await this.ready();
      const { rows } = await pool.query<ListRow>(SQL.list(useAfter, upper !== undefined), params);
      const objects = rows.slice(0, limit).map((row) => ({ objectId: row.object_id, version: Number(row.version), entryCount: Number(row.entry_count) }));
      const last = objects.at(-1);
      return rows.length > limit && last !== undefined ? { objects, nextCursor: encodeCursor(last.objectId) } : { objects };
    });
  }

  /** One statement over the partial index `oaas_objects_wake`: only objects with a wake time, in due order. */
  due(until: number, options?: DueOptions): Promise<readonly DueObject[]> {
    return this.run('due', async () => {
      const bound = checkDueArgs(until, options);
      const { rows } = await (await this.ready()).query<DueRow>(SQL.due, [bound.until, bound.limit]);
      return rows.map((row) => ({
        key: { clsId: row.cls_id, partitionId: row.partition_id, objectId: row.object_id },
        wakeAt: Number(row.wake_at),
        version: Number(row.version),
      }));
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown().catch((error: unknown) => {
      throw translateError('close', error);
    });
    return this.closing;
  }

  /** Connection counts for health checks; all zero before the first call and after `close()`. */
  poolStats(): PoolStats {
    const pool = this.pool;
    return pool === undefined ? { total: 0, idle: 0, waiting: 0 } : { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
  }

  /** Half the lease for a fenced transaction's locks and idle time; the statement timeout is the shorter of that and the store's. */
  private fenceTimeouts(): { timeoutMs: number; statementTimeoutMs: number } {
    return { timeoutMs: Math.floor(this.options.leaseMs / 2), statementTimeoutMs: this.options.statementTimeoutMs };
  }

  /** The slot table a fence is checked against: created here when no membership has yet. */
  private ensureClusterTables(pool: Pool): Promise<void> {
    this.clusterTables ??= ensureClusterSchema(pool).catch((error: unknown) => {
      this.clusterTables = undefined;
      throw error;
    });
    return this.clusterTables;
  }

  /** The open pool; the first call creates it and the schema. A failed open leaves nothing behind, so it can be retried. */
  private ready(): Promise<Pool> {
    // A call that passed the closed check before close() began must not open a new pool behind it.
    if (this.closing !== undefined) return Promise.reject(closedError());
    this.opening ??= this.openPool().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async openPool(): Promise<Pool> {
    const pool = this.injected ?? (await createPool(this.options, { what: 'the postgres store', applicationName: 'oaas-sdk' }));
    pool.on('error', this.onIdleError);
    this.pool = pool;
    try {
      await ensureSchema(pool);
      await ensureStorageOptions(pool);
      return pool;
    } catch (error) {
      this.pool = undefined;
      await this.release(pool);
      throw error;
    }
  }

  private async stopListening(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    await listener?.stop();
  }

  private async shutdown(): Promise<void> {
    this.feed.clear();
    await this.stopListening();
    const opening = this.opening;
    this.opening = undefined;
    const pool = await opening?.catch(() => undefined);
    this.pool = undefined;
    if (pool !== undefined) await this.release(pool);
  }

  /**
   * Ends a pool this store created; an injected pool only loses the store's
   * listener. An ended pool keeps it: `end()` resolves before its clients have
   * closed, and a late error from one of them must not crash the process.
   */
  private async release(pool: Pool): Promise<void> {
    if (pool === this.injected) pool.off('error', this.onIdleError);
    else await pool.end();
  }

  /** Runs a call unless the store is closed, translating every error at this boundary. */
  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      if (this.closing !== undefined) throw closedError();
      return await body();
    } catch (error) {
      throw translateError(operation, error);
    }
  }
}

function closedError(): StoreError {
  return new StoreError('postgres store is closed', { transient: false });
}

/** Reads many objects in one statement (one snapshot). */
async function readObjects(pool: Pool, keys: readonly ObjectKey[]): Promise<(StoredObject | undefined)[]> {
  const { rows } = await pool.query<ReadRow>(SQL.read, columns(keys));
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => {
    const row = found.get(keyString(key));
    if (row === undefined) return undefined;
    return { key: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, version: Number(row.version), entries: decodeDocument(row.state, row.raw) };
  });
}
