/**
 * The lazy store (the default SQLite file when a remote `url` is set): the
 * store contract through it, and how `due` behaves before the store exists.
 */
import { existsSync, mkdtempSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { InvalidArgumentError, StoreError } from '../../src/errors.js';
import { LazyStore } from '../../src/stores/lazy-store.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { OdgmStore } from '../../src/stores/odgm/odgm-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import type { Store } from '../../src/stores/store.js';
import { rejection } from '../support/promises.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('sqlite (lazy)', () => Promise.resolve({ store: new LazyStore('sqlite', () => Promise.resolve(new SqliteStore({ path: ':memory:' })), { due: true }) }));

const key = { clsId: 'cls', partitionId: 0, objectId: 'a' };

describe('LazyStore due()', () => {
  let dir: string;
  let path: string;
  const stores: Store[] = [];
  let created = 0;
  const lazy = (): LazyStore => {
    const store = new LazyStore(
      'sqlite',
      () => {
        created += 1;
        return Promise.resolve(new SqliteStore({ path }));
      },
      { due: true, exists: () => existsSync(path) },
    );
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'oaas-lazy-')));
    path = join(dir, 'state.db');
    created = 0;
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has no due() unless told that the store it creates has one', () => {
    expect(new LazyStore('memory', () => Promise.resolve(new MemoryStore())).due).toBeUndefined();
    expect(new LazyStore('memory', () => Promise.resolve(new MemoryStore()), { due: true }).due).toBeTypeOf('function');
  });

  it('answers nothing, and creates nothing, while the store does not exist; still refuses bad arguments', async () => {
    const store = lazy();
    expect(await store.due!(Date.now())).toEqual([]);
    expect(created).toBe(0);
    expect(existsSync(path)).toBe(false);
    expect(await rejection(store.due!(Number.NaN))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(store.due!(0, { limit: 0 }))).toBeInstanceOf(InvalidArgumentError);
  });

  it('opens a store that exists to find what is due in it, and asks the store once created', async () => {
    const writer = new SqliteStore({ path });
    stores.push(writer);
    await writer.apply([{ kind: 'put', key, wakeAt: 10 }]);
    const store = lazy();
    expect(await store.due!(10)).toEqual([{ key, wakeAt: 10, version: 1 }]);
    expect(created).toBe(1);
    await store.apply([{ kind: 'put', key, wakeAt: null }]);
    expect(await store.due!(10)).toEqual([]);
  });

  it('fails for good once closed, and says so when the store it created has no due()', async () => {
    const closed = lazy();
    await closed.close();
    expect(await rejection(closed.due!(0))).toBeInstanceOf(StoreError);
    const wrong = new LazyStore('odgm', () => Promise.resolve(new OdgmStore({ address: '127.0.0.1:1' })), { due: true });
    stores.push(wrong);
    const error = await rejection(wrong.due!(0));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(false);
  });

  it('is what the default store is with a remote url: asking it what is due leaves no file behind', async () => {
    const before = process.cwd();
    process.chdir(dir);
    let store: Store;
    try {
      store = (resolveConfig({}, { OAAS_URL: 'http://127.0.0.1:9' }).store as { store: Store }).store;
    } finally {
      process.chdir(before);
    }
    stores.push(store);
    expect(await store.due!(Date.now())).toEqual([]);
    expect(existsSync(join(dir, '.oaas'))).toBe(false);
    await store.apply([{ kind: 'put', key, wakeAt: 5 }]);
    expect(existsSync(join(dir, '.oaas', 'state.db'))).toBe(true);
    expect(await store.due!(5)).toEqual([{ key, wakeAt: 5, version: 1 }]);
  });
});
