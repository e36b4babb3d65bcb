/**
 * The ODGM backend: objects kept by the Oparaca platform's object data grid
 * (ODGM), through its `oprc.DataService` over gRPC, so that the platform's
 * gateway, its other functions and this SDK see the same objects.
 * `@grpc/grpc-js` and `@grpc/proto-loader` are optional peer dependencies,
 * loaded when the store first connects.
 */
import { describeValue as describe } from '../../describe.js';
import { ConflictError, InvalidArgumentError, StoreError, formatIdentity } from '../../errors.js';
import type { ApplyOptions, ListOptions, ListPage, ListedObject, ObjectKey, Store, StoredObject, WriteOp } from '../store.js';
import { checkBatch, checkKey, checkListOptions, checkPartition, refuseFence, refuseWakeTimes } from '../validate.js';
import { ODGM_SERVICE_VARIABLE, addressProblem } from './address.js';
import type { Found, OdgmCalls } from './calls.js';
import { translateError } from './errors.js';
import { MAX_ODGM_PARTITION, checkOdgmBatch, checkOdgmKey } from './names.js';
import { wireCount } from './wire.js';
import { writeDelete, writePut } from './writes.js';

/** Options of {@link OdgmStore}. */
export interface OdgmStoreOptions {
  /**
   * The DataService's `host:port`: in a function runtime on the platform,
   * the `ODGM_SERVICE` variable it sets (`<name>-odgm-svc:8080`).
   * @default process.env.ODGM_SERVICE
   * @example 'counter-odgm-svc:8080'
   */
  readonly address?: string | undefined;
  /** How long `open()` (and the first call) waits for a connection. @default 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * The deadline of each call; a call that outlives it fails with a
   * transient `StoreError` (a write may still have been applied).
   * @default 10000
   */
  readonly callTimeoutMs?: number | undefined;
}

/** How many objects `getMany` reads at once. */
const READ_CONCURRENCY = 16;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

/**
 * A {@link Store} on ODGM's DataService. What ODGM gives, and so what this
 * store gives, differs from the other stores in three ways (docs/stores.md,
 * "The ODGM store", says it in full):
 *
 * - **One object per batch.** DataService writes one object per call, so a
 *   batch that writes several objects cannot be atomic and is refused with
 *   a non-transient `StoreError` before anything is written.
 * - **ODGM's names.** Object ids and entry keys must be what ODGM keeps:
 *   lower-case `[a-z0-9._:-]`, at most 160 characters (classes get
 *   lowercased field keys when this store is configured); partitions are
 *   16-bit.
 * - **ODGM's versions.** A put that sets entries steps the version by one
 *   (every SDK commit); removing entries steps it further, an object
 *   created with no entries is at version 0, and a deleted id cannot be
 *   used again (ODGM keeps its tombstone).
 *
 * A read is two calls, `GetValue` for the version then `Get` for the
 * entries; a commit is one `BatchSetValues` checked by ODGM against the
 * version read.
 *
 * It has no `due`: ODGM keeps no wake times and has no index to find them
 * by, so a put that sets one (`wakeAt` a number) is refused with
 * `InvalidArgumentError` rather than dropped, and reminders need another
 * store. `wakeAt: null` (none) is accepted.
 *
 * @example
 * const store = new OdgmStore({ address: 'counter-odgm-svc:8080' });
 * await store.open();
 */
export class OdgmStore implements Store {
  readonly name = 'odgm';
  /** The DataService this store calls, `host:port`. */
  readonly address: string;
  private readonly connectTimeoutMs: number;
  private readonly callTimeoutMs: number;
  private calls: OdgmCalls | undefined;
  private opening: Promise<OdgmCalls> | undefined;
  private closing: Promise<void> | undefined;

  /** @throws InvalidArgumentError for malformed options, or when no address is given and `ODGM_SERVICE` is unset. */
  constructor(options: OdgmStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
    const { address = process.env[ODGM_SERVICE_VARIABLE], connectTimeoutMs = 5000, callTimeoutMs = 10_000 } = options as Record<string, unknown>;
    if (typeof address !== 'string') {
      throw new InvalidArgumentError('options.address', `must be the DataService's host:port (or set ${ODGM_SERVICE_VARIABLE}), got ${describe(address)}`);
    }
    const problem = addressProblem(address);
    if (problem !== undefined) throw new InvalidArgumentError('options.address', `${describe(address)} is not a host:port: ${problem}`);
    for (const [name, value] of [['connectTimeoutMs', connectTimeoutMs], ['callTimeoutMs', callTimeoutMs]] as const) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`options.${name}`, `must be a positive integer, got ${describe(value)}`);
    }
    this.address = address;
    this.connectTimeoutMs = connectTimeoutMs as number;
    this.callTimeoutMs = callTimeoutMs as number;
  }

  /** Connects and checks that the DataService keeps string entry keys. Idempotent. */
  open(): Promise<void> {
    return this.run('open', async () => {
      await this.connection();
    });
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run('get', async () => {
      checkKey(key, 'key');
      checkOdgmKey(key, 'key');
      return stored(key, await (await this.connection()).read(key));
    });
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.run('getMany', async () => {
      const given: unknown = keys; // not `keys`: Array.isArray would narrow it to any[]
      if (!Array.isArray(given)) throw new InvalidArgumentError('keys', `must be an array, got ${describe(given)}`);
      keys.forEach((key, i) => {
        checkKey(key, 'keys', `keys[${i}]`);
        checkOdgmKey(key, 'keys', `keys[${i}]`);
      });
      if (keys.length === 0) return [];
      const calls = await this.connection();
      const found: (StoredObject | undefined)[] = new Array<StoredObject | undefined>(keys.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < keys.length; i = next++) found[i] = stored(keys[i]!, await calls.read(keys[i]!));
      };
      await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
      return found;
    });
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.run('apply', async () => {
      // ODGM has no isolation levels to choose: `options.isolation` is only checked.
      checkBatch(ops, options);
      refuseFence(options, 'odgm');
      refuseWakeTimes(ops, 'odgm');
      checkOdgmBatch(ops);
      if (ops.length === 0) return [];
      const [op] = ops;
      if (ops.length > 1 || op === undefined) {
        const named = ops.slice(0, 5).map((o) => formatIdentity(o.key));
        const objects = ops.length > named.length ? `${named.join(', ')}, and ${ops.length - named.length} more` : named.join(', ');
        throw new StoreError(
          `odgm apply refused: a batch of ${ops.length} objects (${objects}) cannot be atomic on ODGM, whose DataService writes one object per call; nothing was written. Commit one object at a time (see "The ODGM store" in docs/stores.md)`,
          { transient: false },
        );
      }
      const calls = await this.connection();
      return [op.kind === 'put' ? await writePut(calls, op) : await writeDelete(calls, op)];
    });
  }

  list(clsId: string, partitionId: number, options: ListOptions = {}): Promise<ListPage> {
    return this.run('list', async () => {
      checkPartition(clsId, partitionId);
      if (partitionId > MAX_ODGM_PARTITION) throw new InvalidArgumentError('partitionId', `must be at most ${MAX_ODGM_PARTITION} on ODGM, whose partitions are 16-bit; got ${partitionId}`);
      // ODGM's cursor is its own (opaque bytes), so only the prefix and limit are checked the common way.
      const given: unknown = options;
      const { prefix, limit } = checkListOptions(typeof given === 'object' && given !== null ? { ...options, cursor: undefined } : given);
      const cursor = decodeCursor(options.cursor);
      const envelopes = await (await this.connection()).listObjects(clsId, partitionId, prefix, limit, cursor);
      const objects: ListedObject[] = envelopes
        .filter((envelope) => envelope.object_id !== undefined && envelope.object_id !== '')
        .map((envelope) => ({
          objectId: envelope.object_id ?? '',
          version: wireCount(envelope.version, 'version'),
          entryCount: wireCount(envelope.entry_count, 'entry count'),
        }));
      const next = envelopes.at(-1)?.next_cursor;
      return next === undefined || next.length === 0 ? { objects } : { objects, nextCursor: Buffer.from(next).toString('base64url') };
    });
  }

  /**
   * Measures one round trip to the DataService (`Capabilities`), in
   * milliseconds, for health checks: a probe read would name a class, and
   * ODGM answers for the classes it holds shards of only. Rejects with a
   * transient `StoreError` when ODGM is unreachable.
   */
  ping(): Promise<number> {
    return this.run('ping', async () => {
      const calls = await this.connection();
      const started = performance.now();
      await calls.capabilities();
      return performance.now() - started;
    });
  }

  /** Closes the channel. Idempotent; later calls reject with a non-transient `StoreError`. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** The connected calls, connecting on first use; a failed connect leaves nothing behind, so the next call retries. */
  private connection(): Promise<OdgmCalls> {
    if (this.calls !== undefined) return Promise.resolve(this.calls);
    this.opening ??= this.connect().then(
      (calls) => {
        this.calls = calls;
        return calls;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  private async connect(): Promise<OdgmCalls> {
    // Loaded now, not with the module: the root entry point imports this class, and the client brings protobufjs and gRPC.
    const [{ DataServiceClient }, { OdgmCalls }] = await Promise.all([import('./client.js'), import('./calls.js')]);
    const client = await DataServiceClient.create(this.address);
    try {
      await client.waitForReady(this.connectTimeoutMs).catch((error: unknown) => {
        throw new StoreError(`odgm open failed: no connection to ${this.address} within ${this.connectTimeoutMs} ms`, { transient: true }, { cause: error });
      });
      const calls = new OdgmCalls(client, this.callTimeoutMs);
      if (!(await calls.capabilities(this.connectTimeoutMs)).stringEntryKeys) {
        throw new StoreError(`odgm open failed: the DataService at ${this.address} has string entry keys switched off (ODGM_ENABLE_STRING_ENTRY_KEYS); the store needs them`, { transient: false });
      }
      return calls;
    } catch (error) {
      client.close();
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    const calls = this.calls ?? (await this.opening?.catch(() => undefined));
    this.calls = undefined;
    this.opening = undefined;
    calls?.client.close();
  }

  /** Runs a call, translating every error at this boundary; after close(), every call fails for good. */
  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new StoreError(`odgm ${operation} failed: store is closed`, { transient: false });
    try {
      return await body();
    } catch (error) {
      if (this.closing !== undefined && !(error instanceof ConflictError) && !(error instanceof InvalidArgumentError)) {
        throw new StoreError(`odgm ${operation} failed: store was closed`, { transient: false }, { cause: error });
      }
      throw translateError(operation, error, operation === 'apply' ? 'ops' : operation === 'list' ? 'options' : 'key');
    }
  }
}

/** A read as the contract returns it. */
function stored(key: ObjectKey, found: Found): StoredObject | undefined {
  if (found.kind !== 'live') return undefined;
  return { key: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, version: found.version, entries: found.entries };
}

/** A cursor is ODGM's own, base64url-encoded; anything else is refused rather than sent. */
function decodeCursor(cursor: unknown): Uint8Array | undefined {
  if (cursor === undefined) return undefined;
  const bytes = typeof cursor === 'string' && CURSOR_PATTERN.test(cursor) ? Buffer.from(cursor, 'base64url') : undefined;
  if (bytes === undefined || bytes.length === 0 || bytes.toString('base64url') !== cursor) {
    throw new InvalidArgumentError('cursor', `${describe(cursor)} is not a cursor this store returned`);
  }
  return bytes;
}
