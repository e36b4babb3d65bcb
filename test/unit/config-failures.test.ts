// What a configuration that cannot work does: a Redis database that is not one, a store that cannot be opened.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import {
  ConfigurationError,
  OaasObject,
  ShutdownError,
  StoreError,
  commitAll,
  configureOaas,
  currentSession,
  getAutoSessionManager,
  healthCheck,
  service,
  shutdown,
} from '../../src/index.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';

const redisReason = await unavailable('redis');
if (redisReason !== undefined) console.log(`redis database suites skipped: ${redisReason}`);

const tmp = mkdtempSync(join(tmpdir(), 'oaas-config-failures-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

@service('Failing', { package: 'unit_config_failures' })
class Failing extends OaasObject {
  n = 0;
}

afterEach(async () => {
  await shutdown({ timeoutMs: 2000 }).catch(() => undefined);
});

/** The error `fn` throws (or rejects with). */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the call succeeded');
}

describe('redis URLs: the database is checked when the configuration is read', () => {
  it.each([
    ['a name', 'redis://127.0.0.1:6379/abc'],
    ['a negative index', 'redis://127.0.0.1:6379/-1'],
    ['a fraction', 'redis://127.0.0.1:6379/1.5'],
    ['a nested path', 'redis://127.0.0.1:6379/1/2'],
    ['a ?db= that is not a number', 'redis://127.0.0.1:6379?db=two'],
    ['the database twice', 'redis://127.0.0.1:6379/1?db=2'],
    ['an index above any server', 'redis://127.0.0.1:6379/2147483648'],
  ])('refuses %s, for the store, OAAS_STORE and the cache', (_label, url) => {
    for (const [fn, field] of [
      [() => resolveConfig({ store: url }, {}), 'store'],
      [() => resolveConfig({}, { OAAS_STORE: url }), 'store (OAAS_STORE)'],
      [() => resolveConfig({ store: 'memory', cache: url }, {}), 'cache'],
      [() => resolveConfig({ store: 'memory' }, { OAAS_CACHE: url }), 'cache (OAAS_CACHE)'],
    ] as const) {
      let error: unknown;
      try {
        fn();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).field).toBe(field);
      expect((error as Error).message).toMatch(/database .* must be an integer >= 0|given more than once/);
    }
  });

  it('accepts no database, /0, any index the syntax allows (the server decides the range) and ?db=', () => {
    for (const url of ['redis://h:6379', 'redis://h:6379/', 'redis://h:6379/0', 'redis://h:6379/15', 'redis://h:6379/99', 'redis://h:6379?db=3', 'rediss://:pw@h/2']) {
      expect(resolveConfig({ store: url }, {}).store).toEqual({ kind: 'redis', url });
    }
  });

  it('a RedisStore given a malformed database refuses to open, before connecting', async () => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:1/abc', connectTimeoutMs: 200 });
    const error = await failure(() => store.open());
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(false);
    expect((error as Error).message).toMatch(/database "\/abc" must be an integer >= 0/);
    await store.close();
  });
});

describe.skipIf(redisReason !== undefined)('redis URLs: a database the server does not have', () => {
  let server: TestServer;
  let base: string;
  let admin: Redis;
  beforeAll(async () => {
    server = (await startServer('redis'))!;
    base = (await server.freshStore()).replace(/\/\d+$/, '');
    admin = new Redis(base, { lazyConnect: true });
    await admin.connect();
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.destroy();
  });

  it('fails the open with a clear error instead of writing to database 0', async () => {
    await admin.flushall();
    const store = new RedisStore({ url: `${base}/99` });
    const error = await failure(() => store.open());
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(false);
    expect((error as Error).message).toMatch(/refused database 99 .*out of range/);
    await store.close();

    const configured = await failure(() => configureOaas({ store: `${base}/99`, autoCommit: false, logLevel: 'silent' }));
    expect(configured).toBeInstanceOf(StoreError);
    expect((configured as Error).message).toMatch(/refused database 99/);
    expect(() => Failing.create({ n: 1 }, { id: 'nowhere' })).toThrow(ShutdownError);
    // Nothing, not even the schema record, went to database 0.
    expect(await admin.dbsize()).toBe(0);
  });

  it('writes to the database the URL names when the server has it', async () => {
    await admin.flushall();
    await configureOaas({ store: `${base}/3`, autoCommit: false, logLevel: 'silent' });
    Failing.create({ n: 7 }, { id: 'in-three' });
    await commitAll();
    expect(await admin.dbsize()).toBe(0);
    await admin.select(3);
    try {
      expect((await admin.keys('*')).some((key) => key.includes('in-three'))).toBe(true);
    } finally {
      await admin.select(0);
    }
  });
});

describe('configureOaas whose store cannot be opened', () => {
  /** A file SQLite refuses to open as a database. */
  function notADatabase(): string {
    const file = join(mkdtempSync(join(tmp, 'garbage-')), 'state.db');
    writeFileSync(file, 'this is not an sqlite database, only text long enough to hold a header: '.repeat(20));
    return `sqlite:${file}`;
  }

  it.each([
    ['a postgres:// URL where nothing listens', () => 'postgres://oaas@127.0.0.1:1/none'],
    ['an sqlite file that is not a database', notADatabase],
  ])('%s leaves no runtime: calls reject with ShutdownError naming the failure', async (_label, storeOf) => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const exitHooks = process.listenerCount('beforeExit');

    const configuring = configureOaas({ store: storeOf(), logLevel: 'silent' });
    // Installed synchronously, so an object can be created before the open fails.
    const early = Failing.create({ n: 1 }, { id: 'early' });
    const error = await failure(() => configuring);
    expect(error).toBeInstanceOf(StoreError);

    for (const call of [() => Failing.create({ n: 2 }, { id: 'late' }), () => getAutoSessionManager(), () => currentSession(), () => commitAll(), () => healthCheck(), () => Failing.load('early')]) {
      const e = await failure(call);
      expect(e).toBeInstanceOf(ShutdownError);
      expect((e as ShutdownError).code).toBe('OAAS_ERR_RUNTIME_SHUT_DOWN');
      expect((e as Error).message).toMatch(/last configureOaas\(\) could not open its store/);
      expect((e as Error).cause).toBe(error);
    }
    // The object created meanwhile belongs to a closed runtime.
    expect(() => {
      early.n = 3;
    }).toThrow(ShutdownError);
    // Its timer and exit hook are gone with it, and shutdown() has nothing left to fail on.
    expect(process.listenerCount('beforeExit')).toBe(exitHooks - 1);
    await expect(shutdown()).resolves.toBeUndefined();

    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    Failing.create({ n: 4 }, { id: 'after' });
    await expect(commitAll()).resolves.toMatchObject({});
  });

  it('a later configureOaas that replaced the failing one is left alone', async () => {
    const failing = configureOaas({ store: 'postgres://oaas@127.0.0.1:1/none', logLevel: 'silent' });
    const working = configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    await expect(failing).rejects.toBeInstanceOf(StoreError);
    await working;
    Failing.create({ n: 5 }, { id: 'kept' });
    await expect(commitAll()).resolves.toMatchObject({});
  });
});
