import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
import { createStore } from '../stores/resolve-store.js';
import type { Store } from '../stores/store.js';

/**
 * Opens the runtime's store once `previous` (the runtime it replaces) has
 * shut down: the configured backend, wrapped in the Redis cache when one is
 * configured. Failures reach whoever awaits it.
 */
export function openStore(config: ResolvedConfig, previous: Promise<unknown> | undefined, logger: Logger): Promise<Store> {
  const spec = config.store;
  const ready = (previous ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      let store: Store;
      if (spec.kind === 'custom') {
        await spec.store.open();
        store = spec.store;
      } else {
        store = await createStore(spec, { poolSize: config.poolSize, leaseMs: config.cluster?.leaseMs });
      }
      if (config.cache === undefined) return store;
      const { CachedStore } = await import('../stores/cache/cached-store.js');
      const { RedisCache } = await import('../stores/cache/redis-cache.js');
      const cached = new CachedStore(store, new RedisCache({ url: config.cache }), logger);
      // Opening again is idempotent for the store; it is the cache's driver that is checked here.
      await cached.open().catch(async (error: unknown) => {
        await store.close().catch(() => undefined);
        throw error;
      });
      return cached;
    });
  // This only keeps Node from calling the failure unhandled before someone awaits it.
  ready.catch(() => undefined);
  return ready;
}

/** The runtime's store as a `Store` usable before it has finished opening; the runtime alone closes it. */
export function storeView(config: ResolvedConfig, ready: Promise<Store>): Store {
  const store = (): Promise<Store> => ready;
  return {
    name: config.store.kind === 'custom' ? config.store.store.name : config.store.kind,
    open: async () => {
      await store();
    },
    get: async (key) => (await store()).get(key),
    getMany: async (keys) => (await store()).getMany(keys),
    apply: async (ops, options) => (await store()).apply(ops, options),
    list: async (clsId, partitionId, options) => (await store()).list(clsId, partitionId, options),
    close: () => Promise.reject(new InvalidArgumentError('store', 'the runtime owns its store; call shutdown() instead')),
  };
}
