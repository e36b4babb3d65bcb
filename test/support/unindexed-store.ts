import { MemoryStore, type Store } from '../../src/index.js';

/** A store that keeps no wake times (as ODGM's): the memory store without due(). */
export function storeWithoutWakeIndex(): Store {
  const inner = new MemoryStore();
  return {
    name: 'plain',
    open: () => inner.open(),
    get: (key) => inner.get(key),
    getMany: (keys) => inner.getMany(keys),
    apply: (ops, options) => inner.apply(ops, options),
    list: (cls, pid, options) => inner.list(cls, pid, options),
    close: () => inner.close(),
  };
}
