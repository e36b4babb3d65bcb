import type { Logger } from 'pino';
import type { ApplyOptions, ListOptions, ListPage, ObjectKey, Store, StoredObject, WriteOp } from '../store.js';
import { keyString } from '../store.js';
import { checkKey } from '../validate.js';
import type { VersionedCache } from './versioned-cache.js';

/**
 * A store with a cache in front: loads read the cache first and fill it from
 * the store on a miss; a commit updates the cache after the store has
 * committed. The cache is an optimisation only: when it fails, reads go to
 * the store and the objects whose cache update failed are read from the
 * store (and evicted again) until the cache confirms the eviction, so a
 * cache outage costs latency, never errors or stale reads in this process.
 */
export class CachedStore implements Store {
  readonly name: string;
  /** Objects whose cached copy may be stale because an update did not reach the cache. */
  private readonly unsynced = new Map<string, ObjectKey>();
  private lastWarning = 0;
  /** After close() every call goes straight to the closed store (which refuses it); the cache could otherwise reconnect and answer. */
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly cache: VersionedCache,
    private readonly logger?: Logger,
  ) {
    this.name = `${store.name}+cache`;
  }

  /** The wrapped store's change events, when it has them. */
  get subscribe(): Store['subscribe'] {
    const store = this.store;
    return store.subscribe === undefined ? undefined : (listener) => store.subscribe!(listener);
  }

  /** The wrapped store's due(), when it has one: wake times are read from the store, never cached. */
  get due(): Store['due'] {
    const store = this.store;
    return store.due === undefined ? undefined : (until, options) => store.due!(until, options);
  }

  async open(): Promise<void> {
    if (!this.closed) await this.cache.open?.();
    await this.store.open();
  }

  async get(key: ObjectKey): Promise<StoredObject | undefined> {
    // A malformed key is the caller's error (InvalidArgumentError), not something to look up in the cache.
    checkKey(key, 'key');
    if (this.closed) return this.store.get(key);
    await this.resync();
    const id = keyString(key);
    if (!this.unsynced.has(id)) {
      try {
        const cached = await this.cache.read(key);
        if (cached !== undefined) return cached;
      } catch (error) {
        this.warn(error);
      }
    }
    const stored = await this.store.get(key);
    if (stored !== undefined && !this.unsynced.has(id)) {
      await this.cache.fill(stored).catch((error: unknown) => {
        this.warn(error);
      });
    }
    return stored;
  }

  async getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    if (this.closed) return this.store.getMany(keys);
    keys.forEach((key, i) => {
      checkKey(key, 'keys', `keys[${i}]`);
    });
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    const versions = await this.store.apply(ops, options);
    await Promise.all(
      ops.map(async (op, i) => {
        try {
          if (op.kind === 'delete') await this.cache.deleted(op.key, op.expectedVersion);
          else await this.cache.committed(op.key, op.expectedVersion, versions[i]!, op.set, op.remove);
        } catch (error) {
          this.unsynced.set(keyString(op.key), op.key);
          this.warn(error);
        }
      }),
    );
    return versions;
  }

  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage> {
    return this.store.list(clsId, partitionId, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cache.close();
    await this.store.close();
  }

  /** Evicts objects whose cache update failed, once the cache answers again. */
  private async resync(): Promise<void> {
    if (this.unsynced.size === 0) return;
    for (const [id, key] of [...this.unsynced]) {
      try {
        await this.cache.evict(key);
        this.unsynced.delete(id);
      } catch {
        return; // still down: keep reading those objects from the store
      }
    }
  }

  private warn(error: unknown): void {
    // One line per few seconds is enough to say the cache is down; every miss would flood the log.
    const now = Date.now();
    if (now - this.lastWarning < 5000) return;
    this.lastWarning = now;
    this.logger?.warn({ err: error }, 'cache unavailable; reading from the store');
  }
}
