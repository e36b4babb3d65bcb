/**
 * The Redis backend on ioredis: state shared by any number of processes and
 * machines through one Redis server (or a primary with replicas). ioredis is
 * an optional peer dependency, loaded when the store first connects.
 */
import type { Redis } from 'ioredis';
import { describeValue as describe } from '../../describe.js';
import { ConflictError, FencedError, InvalidArgumentError, StoreError } from '../../errors.js';
import {
  TRUSTED_BATCH,
  type ApplyOptions,
  type DueObject,
  type DueOptions,
  type ListOptions,
  type ListPage,
  type ListedObject,
  type ObjectKey,
  type Store,
  type StoreChangeListener,
  type StoredObject,
  type WriteOp,
} from '../store.js';
import { checkBatch, checkDueArgs, checkKey, checkListOptions, checkPartition, encodeCursor } from '../validate.js';
import { checkConnectionOptions, checkSchema, createClient, execAll, quit, waitUntilReady } from './connection.js';
import { translateError, unexpectedReply } from './errors.js';
import type { RedisClient } from './redis-client.js';
import { RedisSubscriber } from './events.js';
import { ChangeListeners, encodeHead, newOrigin } from '../change-feed.js';

export type { RedisClient } from './redis-client.js';
import type { KeyLayout} from './scripts.js';
import { VERSION_FIELD, applyArguments, applyScript, dueScript, parseApplyReply } from './scripts.js';
import { parseDueReply } from './wakes.js';
import { putsArguments, putsScript } from './puts-script.js';

/** Options of {@link RedisStore}. */
export interface RedisStoreOptions {
  /** A `redis://` or `rediss://` URL, e.g. `redis://:secret@cache:6379/2`. Ignored when `client` is given. */
  readonly url: string;
  /**
   * Prefixes every key, so several stores (or other applications) can share
   * one database. It may not contain `{` or `}`, which would change the hash
   * slot of every key.
   * @default 'oaas'
   */
  readonly keyPrefix?: string | undefined;
  /** How long `open()` (and the first call) waits for a usable connection. @default 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /**
   * How long one command may take before it fails with a transient
   * `StoreError`. A write that timed out may still have been applied.
   * @default 10000
   */
  readonly commandTimeoutMs?: number | undefined;
  /**
   * A client to use instead of one built from `url`, e.g. for Sentinel or TLS
   * settings. The caller owns it: `close()` leaves it connected. Configure it
   * as the store would (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`,
   * a `commandTimeout`) or calls during an outage wait instead of failing.
   */
  readonly client?: RedisClient | undefined;
}

/**
 * A {@link Store} in Redis. Each object is one hash, each class and
 * partition one sorted set of ids (see `scripts.ts` for the layout), and
 * each `apply` one Lua script, which Redis runs without interleaving any
 * other command: versions are checked, then written, atomically.
 *
 * The client fails fast instead of queueing: during an outage every call
 * rejects at once (or after `commandTimeoutMs` when the server hangs) with
 * a transient `StoreError`, which callers retry, while the client reconnects
 * in the background. Commands are never resent after a reconnect, so a batch
 * is never applied behind its caller's back.
 *
 * Redis Cluster: every key of the script carries the `{cls:partition}` hash
 * tag, so a batch within one class and partition runs on one node; a batch
 * that spans classes or partitions fails with `CROSSSLOT` there, and so does
 * every fenced batch (the slot table has no hash tag) and every batch that
 * sets or clears a wake time or deletes an object (the wake set has none
 * either), so `due` and reminders need a single server, or a primary with
 * replicas, as cluster mode does; those have no such limit. Durability is the
 * server's: run it with `appendonly yes` and `appendfsync always` so that an
 * acknowledged batch survives a crash.
 *
 * @example
 * const store = new RedisStore({ url: 'redis://localhost:6379' });
 * await store.open();
 */
export class RedisStore implements Store {
  readonly name = 'redis';
  private readonly url: string;
  private readonly layout: KeyLayout;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly injected: Redis | undefined;
  private client: Redis | undefined;
  private opening: Promise<Redis> | undefined;
  private closing: Promise<void> | undefined;
  /** Tells this instance's own events from the other processes'. */
  private readonly origin = newOrigin();
  private readonly feed = new ChangeListeners();
  private subscriber: Promise<RedisSubscriber> | undefined;
  /** The last connection error ioredis emitted; the cause of a failed open. */
  private lastError: Error | undefined;
  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  constructor(options: RedisStoreOptions) {
    const settings = checkConnectionOptions(options, 10_000);
    this.url = settings.url;
    this.layout = settings.layout;
    this.connectTimeoutMs = settings.connectTimeoutMs;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    this.injected = settings.client;
  }

  open(): Promise<void> {
    return this.run('open', async () => {
      await this.connection();
    });
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run('get', async () => {
      checkKey(key, 'key');
      const client = await this.connection();
      // callBuffer with the upper-case name: ioredis keys its reply transformers by the lower-case name, so
      // this returns the raw field/value array, with the version field's bytes intact.
      return readObject(key, await client.callBuffer('HGETALL', this.layout.object(key)));
    });
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.run('getMany', async () => {
      const given: unknown = keys; // not `keys`: Array.isArray would narrow it to any[]
      if (!Array.isArray(given)) throw new InvalidArgumentError('keys', `must be an array, got ${describe(given)}`);
      keys.forEach((key, i) => { checkKey(key, 'keys', `keys[${i}]`); });
      if (keys.length === 0) return [];
      const client = await this.connection();
      // One MULTI: one round trip, and every key read at the same instant.
      const multi = client.multi();
      for (const key of keys) multi.callBuffer('HGETALL', this.layout.object(key));
      const results = await execAll(multi, keys.length);
      return keys.map((key, i) => readObject(key, results[i]));
    });
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.run('apply', async () => {
      // A script runs alone on the server, so every batch is serializable; `options.isolation` is only checked.
      // The SDK's own batches are well-formed by construction.
      const trusted = options?.[TRUSTED_BATCH] === true;
      if (!trusted) checkBatch(ops, options);
      if (ops.length === 0) return [];
      const client = await this.connection();
      const fence = options?.fence;
      const event = { channel: this.eventsChannel(client), head: encodeHead(this.origin, ops) };
      // The SDK's usual batch has a shorter form (see puts-script.ts); anything else, and any fenced batch, the general one.
      const puts = trusted && fence === undefined ? putsArguments(this.layout, ops, event) : undefined;
      const { keys, args } = puts ?? applyArguments(this.layout, ops, fence, event, trusted);
      const reply = parseApplyReply(await (puts === undefined ? applyScript : putsScript).run(client, keys, args), ops.length);
      if (reply.ok) return reply.versions;
      if ('fenced' in reply) throw new FencedError(fence?.memberId ?? '', reply.fenced);
      throw new ConflictError(
        reply.conflicts.map(({ index, actual }) => {
          const op = ops[index];
          if (op === undefined) throw unexpectedReply(`apply script reply: it names op ${index + 1} of ${ops.length}`);
          const { clsId, partitionId, objectId } = op.key;
          return { ref: { clsId, partitionId, objectId }, expected: op.expectedVersion ?? 0, actual };
        }),
      );
    });
  }

  /**
   * Hears the batches other store instances on this database apply (the
   * apply script publishes each one). Listening holds one more connection
   * while anyone subscribes.
   */
  subscribe(listener: StoreChangeListener): Promise<() => Promise<void>> {
    return this.run('subscribe', async () => {
      const client = await this.connection();
      const remove = this.feed.add(listener);
      const starting = (this.subscriber ??= this.startSubscriber(client));
      try {
        await starting;
      } catch (error) {
        if (this.subscriber === starting) this.subscriber = undefined;
        remove();
        throw error;
      }
      return async () => {
        remove();
        if (this.feed.size === 0) await this.stopSubscriber();
      };
    });
  }

  private async startSubscriber(client: Redis): Promise<RedisSubscriber> {
    const own = this.injected === undefined ? await createClient(this.url, this.connectTimeoutMs, this.commandTimeoutMs) : client.duplicate();
    return RedisSubscriber.start(own, this.eventsChannel(client), (text) => {
      this.feed.deliver(text, this.origin);
    });
  }

  private async stopSubscriber(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    (await subscriber?.catch(() => undefined))?.stop();
  }

  private eventsChannel(client: Redis): string {
    return this.layout.events(client.options.db ?? 0);
  }

  list(clsId: string, partitionId: number, options: ListOptions = {}): Promise<ListPage> {
    return this.run('list', async () => {
      checkPartition(clsId, partitionId);
      const { prefix, limit, after } = checkListOptions(options);
      const client = await this.connection();
      // Lex ranges compare bytes. Start after the cursor when it lies within the prefix range, else at the
      // prefix; end before prefix + 0xFF, above every UTF-8 string that starts with the prefix and below
      // every greater string that does not.
      const useAfter = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) >= 0;
      const min = useAfter ? lexBound('(', after) : prefix === '' ? '-' : lexBound('[', prefix);
      const max = prefix === '' ? '+' : Buffer.concat([lexBound('(', prefix), VERSION_FIELD]);
      const index = this.layout.index(clsId, partitionId);
      const found = await client.callBuffer('ZRANGE', [index, min, max, 'BYLEX', 'LIMIT', 0, limit + 1]);
      if (!Array.isArray(found) || !found.every((id) => Buffer.isBuffer(id))) throw unexpectedReply(`ZRANGE reply from ${index}`);
      const ids = found.slice(0, limit).map((id) => id.toString('utf8'));
      const objects = await this.describeObjects(client, clsId, partitionId, ids);
      const last = ids.at(-1);
      return found.length > limit && last !== undefined ? { objects, nextCursor: encodeCursor(last) } : { objects };
    });
  }

  /** One script over the wake set: the due members with their versions, read in one run. */
  due(until: number, options?: DueOptions): Promise<readonly DueObject[]> {
    return this.run('due', async () => {
      const bound = checkDueArgs(until, options);
      const client = await this.connection();
      return parseDueReply(await dueScript.run(client, [this.layout.wakes], [String(bound.until), String(bound.limit)], 'bytes'));
    });
  }

  /**
   * Measures one round trip to the server, in milliseconds, for health
   * checks. Rejects with a transient `StoreError` when the server is
   * unreachable.
   */
  ping(): Promise<number> {
    return this.run('ping', async () => {
      const client = await this.connection();
      const started = performance.now();
      await client.ping();
      return performance.now() - started;
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Versions and entry counts of listed ids, in one MULTI. An id deleted since the ZRANGE is left out. */
  private async describeObjects(client: Redis, clsId: string, partitionId: number, ids: readonly string[]): Promise<ListedObject[]> {
    if (ids.length === 0) return [];
    const multi = client.multi();
    for (const objectId of ids) {
      const key = this.layout.object({ clsId, partitionId, objectId });
      multi.hget(key, VERSION_FIELD).hlen(key);
    }
    const results = await execAll(multi, ids.length * 2);
    const objects: ListedObject[] = [];
    ids.forEach((objectId, i) => {
      const version = results[2 * i];
      const fields = results[2 * i + 1];
      if (version === null) return;
      objects.push({ objectId, version: Number(version), entryCount: Number(fields) - 1 });
    });
    return objects;
  }

  /** The connected client, connecting on first use; a failed connect leaves nothing behind, so the next call retries. */
  private connection(): Promise<Redis> {
    if (this.client !== undefined) return Promise.resolve(this.client);
    this.opening ??= this.connect().then(
      (client) => {
        this.client = client;
        return client;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }

  private async connect(): Promise<Redis> {
    const client = this.injected ?? (await createClient(this.url, this.connectTimeoutMs, this.commandTimeoutMs));
    this.lastError = undefined;
    client.on('error', this.onError);
    try {
      await waitUntilReady(client, { url: this.url, timeoutMs: this.connectTimeoutMs, lastError: () => this.lastError });
      await checkSchema(client, this.layout.meta);
      return client;
    } catch (error) {
      if (this.injected === undefined) client.disconnect();
      else client.off('error', this.onError);
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    this.feed.clear();
    await this.stopSubscriber();
    const client = this.client ?? (await this.opening?.catch(() => undefined));
    this.client = undefined;
    this.opening = undefined;
    if (client === undefined) return;
    if (this.injected !== undefined) {
      client.off('error', this.onError);
      return;
    }
    await quit(client);
  }

  /** Runs a call, translating every error at this boundary; after close(), every call fails for good. */
  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new StoreError(`redis ${operation} failed: store is closed`, { transient: false });
    try {
      return await body();
    } catch (error) {
      if (this.closing !== undefined && !(error instanceof ConflictError) && !(error instanceof FencedError) && !(error instanceof InvalidArgumentError)) {
        throw new StoreError(`redis ${operation} failed: store was closed`, { transient: false }, { cause: error });
      }
      throw translateError(operation, error);
    }
  }
}

/** Builds a StoredObject from a raw HGETALL reply (field, value, field, value, ...); empty means absent. */
function readObject(key: ObjectKey, reply: unknown): StoredObject | undefined {
  if (!Array.isArray(reply)) throw unexpectedReply(`HGETALL reply for ${key.clsId}/${key.partitionId}/${key.objectId}`);
  if (reply.length === 0) return undefined;
  let version: number | undefined;
  const entries = new Map<string, Uint8Array>();
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const field: unknown = reply[i];
    const value: unknown = reply[i + 1];
    if (!Buffer.isBuffer(field) || !Buffer.isBuffer(value)) throw unexpectedReply('HGETALL reply: not binary');
    // Copy out of the driver's Buffer: callers get a plain Uint8Array nobody else holds.
    if (field.equals(VERSION_FIELD)) version = Number(value.toString('latin1'));
    else entries.set(field.toString('utf8'), new Uint8Array(value));
  }
  if (version === undefined || !Number.isSafeInteger(version) || version < 1) {
    throw new StoreError(`redis read failed: ${key.clsId}/${key.partitionId}/${key.objectId} has no valid version field (not written by oaas-sdk?)`, { transient: false });
  }
  return { key: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, version, entries };
}

function lexBound(mark: '(' | '[', value: string): Buffer {
  return Buffer.concat([Buffer.from(mark), Buffer.from(value, 'utf8')]);
}
