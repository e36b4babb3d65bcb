import type { Redis } from 'ioredis';
import { backoffDelay } from '../../backoff.js';
import { StoreError } from '../../errors.js';
import { loadDriver } from '../optional-driver.js';
import type { RedisClient } from '../redis/redis-client.js';
import type { ObjectKey, StoredObject } from '../store.js';
import type { VersionedCache } from './versioned-cache.js';

/** Options of {@link RedisCache}. */
export interface RedisCacheOptions {
  readonly url: string;
  /** Key prefix. @default 'oaas' */
  readonly keyPrefix?: string | undefined;
  /** How long an entry lives without being read or written. @default 60000 */
  readonly ttlMs?: number | undefined;
  /** How long a cache command may take before the store is used instead. @default 250 */
  readonly commandTimeoutMs?: number | undefined;
  /** An ioredis client to use instead of connecting (tests). */
  readonly client?: RedisClient | undefined;
}

// A cached object is one hash: `v` its version, `c` '1' when the entries are
// complete ('0' marks only "nothing older than v may be cached"), `e:<key>`
// the entries.
const FILL = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local c = redis.call('HGET', KEYS[1], 'c')
local nv = tonumber(ARGV[2])
if (c == '1' and v >= nv) or (c ~= '1' and v > nv) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'c', '1')
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

const COMMITTED = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
local c = redis.call('HGET', KEYS[1], 'c')
local prev = tonumber(ARGV[2])
local nv = tonumber(ARGV[3])
local nset = tonumber(ARGV[4])
if c == '1' and v == prev then
  for i = 5, 4 + nset * 2, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
  for i = 5 + nset * 2, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
  redis.call('HSET', KEYS[1], 'v', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return 1
end
if v < nv then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'v', ARGV[3], 'c', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return 0`;

const ENTRY = 'e:';

/**
 * A {@link VersionedCache} on Redis. Every update is one Lua script, so the
 * version check and the write are atomic on the server.
 */
export class RedisCache implements VersionedCache {
  private client: Redis | undefined;
  private connecting: Promise<Redis> | undefined;
  private driver: Promise<typeof Redis> | undefined;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: RedisCacheOptions) {
    this.prefix = options.keyPrefix ?? 'oaas';
    this.ttlMs = options.ttlMs ?? 60_000;
    this.timeoutMs = options.commandTimeoutMs ?? 250;
    this.client = options.client as Redis | undefined;
  }

  /**
   * Loads ioredis, so that a missing install fails the runtime's start with a
   * `ConfigurationError` rather than leaving every read to fall back to the
   * store unnoticed. Connecting still waits for the first command.
   */
  async open(): Promise<void> {
    if (this.options.client === undefined) await this.loadDriver();
  }

  private loadDriver(): Promise<typeof Redis> {
    this.driver ??= loadDriver('ioredis', 'cache', 'the redis cache', async () => (await import('ioredis')).Redis);
    return this.driver;
  }

  private key(key: ObjectKey): string {
    return `${this.prefix}:c:{${key.clsId}:${String(key.partitionId)}}:${key.objectId}`;
  }

  private async redis(): Promise<Redis> {
    if (this.client !== undefined) return this.client;
    this.connecting ??= this.loadDriver().then(async (Client) => {
      const client = new Client(this.options.url, {
        connectTimeout: this.timeoutMs * 4,
        commandTimeout: this.timeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        // Keep trying in the background; callers fall back to the store meanwhile.
        retryStrategy: (attempt) => backoffDelay(attempt, 100, 2000),
      });
      client.on('error', () => undefined); // failures surface on the commands; the client reconnects by itself
      this.client = client;
      // Commands sent before the first connection would fail (no offline queue): wait for it, bounded.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new StoreError(`no connection within ${String(this.timeoutMs * 4)} ms`, { transient: true }));
        }, this.timeoutMs * 4);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return client;
    });
    return this.connecting;
  }

  private async run<T>(what: string, body: (redis: Redis) => Promise<T>): Promise<T> {
    try {
      return await body(await this.redis());
    } catch (error) {
      throw new StoreError(`cache ${what} failed: ${error instanceof Error ? error.message : String(error)}`, { transient: true }, { cause: error });
    }
  }

  read(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.run('read', async (redis) => {
      const fields = await redis.hgetallBuffer(this.key(key));
      if (fields.c?.toString() !== '1' || fields.v === undefined) return undefined;
      const entries = new Map<string, Uint8Array>();
      for (const [name, value] of Object.entries(fields)) if (name.startsWith(ENTRY)) entries.set(name.slice(ENTRY.length), new Uint8Array(value));
      return { key, version: Number(fields.v.toString()), entries };
    });
  }

  async fill(object: StoredObject): Promise<void> {
    const args: (string | Buffer)[] = [String(this.ttlMs), String(object.version)];
    for (const [name, value] of object.entries) args.push(ENTRY + name, Buffer.from(value));
    await this.run('fill', (redis) => redis.eval(FILL, 1, this.key(object.key), ...args));
  }

  async committed(
    key: ObjectKey,
    previous: number | undefined,
    version: number,
    set: ReadonlyMap<string, Uint8Array> | undefined,
    remove: readonly string[] | undefined,
  ): Promise<void> {
    const args: (string | Buffer)[] = [String(this.ttlMs), String(previous ?? -2), String(version), String(set?.size ?? 0)];
    for (const [name, value] of set ?? []) args.push(ENTRY + name, Buffer.from(value));
    for (const name of remove ?? []) args.push(ENTRY + name);
    await this.run('update', (redis) => redis.eval(COMMITTED, 1, this.key(key), ...args));
  }

  async deleted(key: ObjectKey, previous: number | undefined): Promise<void> {
    // The deletion is newer than the last version; with no version known, nothing may be cached until the entry expires.
    const floor = previous === undefined ? Number.MAX_SAFE_INTEGER : previous + 1;
    await this.run('update', async (redis) => {
      await redis.multi().del(this.key(key)).hset(this.key(key), 'v', String(floor), 'c', '0').pexpire(this.key(key), this.ttlMs).exec();
    });
  }

  async evict(key: ObjectKey): Promise<void> {
    await this.run('evict', (redis) => redis.del(this.key(key)));
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    if (client !== undefined && this.options.client === undefined) await client.quit().catch(() => client.disconnect());
  }
}
