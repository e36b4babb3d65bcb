import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIG_FIELDS, resolveConfig, type OaasConfig } from '../../src/config.js';
import {
  ConfigurationError,
  MemoryStore,
  OaasObject,
  commitAll,
  configureOaas,
  getAutoSessionManager,
  service,
  type Store,
} from '../../src/index.js';
import { checkedShutdown } from '../support/runtime.js';

const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'oaas-config-')));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

/** An environment with nothing set. */
const none = {};

/** Runs `fn` and returns the ConfigurationError it throws. */
function configError(fn: () => unknown): ConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe('OAAS_ERR_CONFIG_INVALID');
    return error as ConfigurationError;
  }
  throw new Error('expected a ConfigurationError, but nothing was thrown');
}

describe('resolveConfig defaults', () => {
  it('uses sqlite:.oaas/state.db under the current directory and documented defaults', () => {
    const dir = realpathSync(mkdtempSync(join(tmp, 'cwd-')));
    const before = process.cwd();
    process.chdir(dir);
    try {
      const resolved = resolveConfig({}, none);
      expect(resolved.store).toEqual({ kind: 'sqlite', path: join(dir, '.oaas', 'state.db'), synchronous: 'full' });
      // The parent folder is created at configuration time, so a bad path fails early.
      expect(existsSync(join(dir, '.oaas'))).toBe(true);
      expect(resolved.autoCommit).toBe(true);
      expect(resolved.autoCommitIntervalMs).toBe(1000);
      expect(resolved.defaultPartition).toBe(0);
      expect(resolved.lockTimeoutMs).toBe(5000);
      expect(resolved.logLevel).toBe('warn');
      expect(resolved.logger).toBeUndefined();
    } finally {
      process.chdir(before);
    }
  });

  it('with a remote url and no store asked for, creates the default store at its first use, not before', async () => {
    const dir = realpathSync(mkdtempSync(join(tmp, 'remote-cwd-')));
    const before = process.cwd();
    process.chdir(dir);
    let resolved: ReturnType<typeof resolveConfig>;
    try {
      resolved = resolveConfig({}, { OAAS_URL: 'http://127.0.0.1:9' });
    } finally {
      process.chdir(before);
    }
    expect(resolved.store.kind).toBe('custom');
    const store = (resolved.store as { store: Store }).store;
    expect(store.name).toBe('sqlite');
    await store.open();
    expect(existsSync(join(dir, '.oaas'))).toBe(false);
    // The path was fixed at configuration time: a later change of directory does not move it.
    expect(await store.get({ clsId: 'a.B', partitionId: 0, objectId: 'x' })).toBeUndefined();
    expect(existsSync(join(dir, '.oaas', 'state.db'))).toBe(true);
    await store.close();
    await expect(store.get({ clsId: 'a.B', partitionId: 0, objectId: 'x' })).rejects.toMatchObject({ code: 'OAAS_ERR_STORE_FAILED' });

    // A store asked for, by option or variable, is opened as usual.
    expect(resolveConfig({ url: 'http://127.0.0.1:9' }, { OAAS_STORE: 'memory' }).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({ url: 'http://127.0.0.1:9', mockMode: true }, none).store).toEqual({ kind: 'memory' });
  });

  it('treats an empty environment variable as unset', () => {
    const env = {
      OAAS_STORE: 'memory',
      OAAS_MOCK_MODE: '',
      OAAS_AUTO_COMMIT: '',
      OAAS_AUTO_COMMIT_INTERVAL_MS: '',
      OAAS_DEFAULT_PARTITION: '',
      OAAS_LOCK_TIMEOUT_MS: '',
      OAAS_LOG_LEVEL: '',
    };
    const resolved = resolveConfig({}, env);
    expect(resolved).toMatchObject({ autoCommit: true, autoCommitIntervalMs: 1000, defaultPartition: 0, lockTimeoutMs: 5000, logLevel: 'warn' });
  });

  it('accepts no config at all', () => {
    expect(resolveConfig(undefined, { OAAS_STORE: 'memory' }).store).toEqual({ kind: 'memory' });
  });
});

describe('resolveConfig reads the environment', () => {
  it('OAAS_STORE: memory, sqlite with options, surrounding whitespace', () => {
    expect(resolveConfig({}, { OAAS_STORE: 'memory' }).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({}, { OAAS_STORE: '  memory\n' }).store).toEqual({ kind: 'memory' });
    const file = join(tmp, 'env', 'state.db');
    expect(resolveConfig({}, { OAAS_STORE: `sqlite:${file}?synchronous=normal` }).store).toEqual({ kind: 'sqlite', path: file, synchronous: 'normal' });
    expect(existsSync(join(tmp, 'env'))).toBe(true);
    expect(resolveConfig({}, { OAAS_STORE: 'sqlite::memory:' }).store).toEqual({ kind: 'sqlite', path: ':memory:', synchronous: 'full' });
  });

  it('OAAS_MOCK_MODE selects the memory store, over OAAS_STORE too', () => {
    for (const on of ['1', 'true', 'TRUE', 'yes', 'on']) {
      expect(resolveConfig({}, { OAAS_MOCK_MODE: on }).store).toEqual({ kind: 'memory' });
    }
    expect(resolveConfig({}, { OAAS_MOCK_MODE: 'true', OAAS_STORE: `sqlite:${join(tmp, 'mock.db')}` }).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({}, { OAAS_MOCK_MODE: 'false', OAAS_STORE: 'sqlite::memory:' }).store).toMatchObject({ kind: 'sqlite' });
  });

  it('OAAS_AUTO_COMMIT', () => {
    const env = { OAAS_STORE: 'memory' };
    for (const off of ['0', 'false', 'no', 'off', ' Off ']) expect(resolveConfig({}, { ...env, OAAS_AUTO_COMMIT: off }).autoCommit).toBe(false);
    for (const on of ['1', 'true', 'yes', 'on']) expect(resolveConfig({}, { ...env, OAAS_AUTO_COMMIT: on }).autoCommit).toBe(true);
  });

  it('OAAS_AUTO_COMMIT_INTERVAL_MS, OAAS_DEFAULT_PARTITION, OAAS_LOCK_TIMEOUT_MS, OAAS_LOG_LEVEL', () => {
    const resolved = resolveConfig(
      {},
      {
        OAAS_STORE: 'memory',
        OAAS_AUTO_COMMIT_INTERVAL_MS: '250',
        OAAS_DEFAULT_PARTITION: '7',
        OAAS_LOCK_TIMEOUT_MS: '120',
        OAAS_LOG_LEVEL: 'debug',
      },
    );
    expect(resolved).toMatchObject({ autoCommitIntervalMs: 250, defaultPartition: 7, lockTimeoutMs: 120, logLevel: 'debug' });
    expect(resolveConfig({}, { OAAS_STORE: 'memory', OAAS_AUTO_COMMIT_INTERVAL_MS: '12.5' }).autoCommitIntervalMs).toBe(12.5);
  });

  it('idempotencyRetentionMs: 7 days unless OAAS_IDEMPOTENCY_RETENTION_MS or the option says otherwise; null keeps records for good', () => {
    expect(resolveConfig({}, { OAAS_STORE: 'memory' }).idempotencyRetentionMs).toBe(604_800_000);
    expect(resolveConfig({}, { OAAS_STORE: 'memory', OAAS_IDEMPOTENCY_RETENTION_MS: '86400000' }).idempotencyRetentionMs).toBe(86_400_000);
    expect(resolveConfig({ idempotencyRetentionMs: 60_000 }, { OAAS_STORE: 'memory', OAAS_IDEMPOTENCY_RETENTION_MS: '86400000' }).idempotencyRetentionMs).toBe(60_000);
    expect(resolveConfig({ idempotencyRetentionMs: null }, { OAAS_STORE: 'memory', OAAS_IDEMPOTENCY_RETENTION_MS: '86400000' }).idempotencyRetentionMs).toBeNull();
  });

  it.each([
    ['OAAS_MOCK_MODE', 'maybe', 'mockMode (OAAS_MOCK_MODE)'],
    ['OAAS_AUTO_COMMIT', 'maybe', 'autoCommit (OAAS_AUTO_COMMIT)'],
    ['OAAS_AUTO_COMMIT_INTERVAL_MS', 'abc', 'autoCommitIntervalMs (OAAS_AUTO_COMMIT_INTERVAL_MS)'],
    ['OAAS_AUTO_COMMIT_INTERVAL_MS', '0', 'autoCommitIntervalMs (OAAS_AUTO_COMMIT_INTERVAL_MS)'],
    ['OAAS_AUTO_COMMIT_INTERVAL_MS', '-5', 'autoCommitIntervalMs (OAAS_AUTO_COMMIT_INTERVAL_MS)'],
    ['OAAS_AUTO_COMMIT_INTERVAL_MS', 'Infinity', 'autoCommitIntervalMs (OAAS_AUTO_COMMIT_INTERVAL_MS)'],
    ['OAAS_AUTO_COMMIT_INTERVAL_MS', '  ', 'autoCommitIntervalMs (OAAS_AUTO_COMMIT_INTERVAL_MS)'],
    ['OAAS_DEFAULT_PARTITION', '-1', 'defaultPartition (OAAS_DEFAULT_PARTITION)'],
    ['OAAS_DEFAULT_PARTITION', '1.5', 'defaultPartition (OAAS_DEFAULT_PARTITION)'],
    ['OAAS_DEFAULT_PARTITION', 'two', 'defaultPartition (OAAS_DEFAULT_PARTITION)'],
    ['OAAS_LOCK_TIMEOUT_MS', '0', 'lockTimeoutMs (OAAS_LOCK_TIMEOUT_MS)'],
    ['OAAS_LOCK_TIMEOUT_MS', 'soon', 'lockTimeoutMs (OAAS_LOCK_TIMEOUT_MS)'],
    ['OAAS_IDEMPOTENCY_RETENTION_MS', 'a week', 'idempotencyRetentionMs (OAAS_IDEMPOTENCY_RETENTION_MS)'],
    ['OAAS_IDEMPOTENCY_RETENTION_MS', '0', 'idempotencyRetentionMs (OAAS_IDEMPOTENCY_RETENTION_MS)'],
    ['OAAS_LOG_LEVEL', 'loud', 'logLevel (OAAS_LOG_LEVEL)'],
    ['OAAS_STORE', 'mongodb://user:secret@host:27017', 'store (OAAS_STORE)'],
    ['OAAS_STORE', 'sqlite:', 'store (OAAS_STORE)'],
    ['OAAS_STORE', 'sqlite::memory:?synchronous=sometimes', 'store (OAAS_STORE)'],
  ])('refuses %s=%j, naming the field and the variable', (name, value, field) => {
    const env: Record<string, string> = { OAAS_STORE: 'memory', [name]: value };
    const e = configError(() => resolveConfig({}, env));
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it('never echoes credentials from a store URL', () => {
    const e = configError(() => resolveConfig({}, { OAAS_STORE: 'mongodb://admin:hunter2@db.internal/app' }));
    expect(e.message).not.toContain('hunter2');
    expect(e.message).toContain('mongodb:');
  });
});

describe('explicit configuration wins over the environment', () => {
  it('for every field, even when the variable is malformed', () => {
    const env = {
      OAAS_STORE: 'mongodb://nope',
      OAAS_MOCK_MODE: 'maybe',
      OAAS_AUTO_COMMIT: 'maybe',
      OAAS_AUTO_COMMIT_INTERVAL_MS: 'abc',
      OAAS_DEFAULT_PARTITION: '-1',
      OAAS_LOCK_TIMEOUT_MS: '0',
      OAAS_LOG_LEVEL: 'loud',
    };
    const resolved = resolveConfig(
      { store: 'memory', mockMode: false, autoCommit: false, autoCommitIntervalMs: 50, defaultPartition: 2, lockTimeoutMs: 30, logLevel: 'warn' },
      env,
    );
    expect(resolved).toMatchObject({ store: { kind: 'memory' }, autoCommit: false, autoCommitIntervalMs: 50, defaultPartition: 2, lockTimeoutMs: 30, logLevel: 'warn' });
  });

  it('for valid variables too', () => {
    const env = { OAAS_STORE: 'memory', OAAS_AUTO_COMMIT: 'false', OAAS_AUTO_COMMIT_INTERVAL_MS: '999', OAAS_DEFAULT_PARTITION: '9', OAAS_LOG_LEVEL: 'trace' };
    const resolved = resolveConfig({ autoCommit: true, autoCommitIntervalMs: 10, defaultPartition: 0, logLevel: 'error' }, env);
    expect(resolved).toMatchObject({ autoCommit: true, autoCommitIntervalMs: 10, defaultPartition: 0, logLevel: 'error' });
  });

  it('an explicit store wins over mockMode', () => {
    const file = join(tmp, 'explicit', 'state.db');
    expect(resolveConfig({ mockMode: true, store: `sqlite:${file}` }, none).store).toEqual({ kind: 'sqlite', path: file, synchronous: 'full' });
    expect(resolveConfig({ mockMode: true }, { OAAS_STORE: `sqlite:${file}` }).store).toEqual({ kind: 'memory' });
    expect(resolveConfig({ mockMode: false }, { OAAS_MOCK_MODE: 'true', OAAS_STORE: 'sqlite::memory:' }).store).toMatchObject({ kind: 'sqlite' });
  });

  it('accepts a Store object and a pino logger as given', () => {
    const store = new MemoryStore();
    const logger = pino({ level: 'silent' });
    const resolved = resolveConfig({ store, logger }, { OAAS_STORE: 'mongodb://ignored' });
    expect(resolved.store).toEqual({ kind: 'custom', store });
    expect((resolved.store as { store: unknown }).store).toBe(store);
    expect(resolved.logger).toBe(logger);
  });

  it('accepts the biggest interval and refuses one above it', () => {
    expect(resolveConfig({ store: 'memory', autoCommitIntervalMs: 2_147_483_647 }, none).autoCommitIntervalMs).toBe(2_147_483_647);
    expect(configError(() => resolveConfig({ store: 'memory', autoCommitIntervalMs: 2_147_483_648 }, none)).field).toBe('autoCommitIntervalMs');
  });
});

describe('resolveConfig refuses bad configuration', () => {
  it.each([
    ['null', null],
    ['a string', 'memory'],
    ['an array', []],
    ['a number', 42],
  ])('a config that is %s', (_label, config) => {
    expect(configError(() => resolveConfig(config as never, none)).field).toBe('config');
  });

  const cases: [string, Record<string, unknown>, string][] = [
    ['an unknown key', { stroe: 'memory' }, 'stroe'],
    ['an unknown store scheme', { store: 'mongodb://localhost/db' }, 'store'],
    ['a bare unknown store name', { store: 'mongo' }, 'store'],
    ['an unknown sqlite option', { store: 'sqlite::memory:?journal=off' }, 'store'],
    ['a store of the wrong type', { store: 42 }, 'store'],
    ['a store object missing methods', { store: { open: async () => {}, get: async () => undefined } }, 'store'],
    ['a store object with a non-function method', { store: { ...methodsOf(new MemoryStore()), list: 'nope' } }, 'store'],
    ['interval 0', { store: 'memory', autoCommitIntervalMs: 0 }, 'autoCommitIntervalMs'],
    ['a negative interval', { store: 'memory', autoCommitIntervalMs: -1 }, 'autoCommitIntervalMs'],
    ['a NaN interval', { store: 'memory', autoCommitIntervalMs: Number.NaN }, 'autoCommitIntervalMs'],
    ['an infinite interval', { store: 'memory', autoCommitIntervalMs: Number.POSITIVE_INFINITY }, 'autoCommitIntervalMs'],
    ['a string interval', { store: 'memory', autoCommitIntervalMs: '100' }, 'autoCommitIntervalMs'],
    ['a non-boolean mockMode', { mockMode: 'yes' }, 'mockMode'],
    ['a non-boolean autoCommit', { store: 'memory', autoCommit: 'true' }, 'autoCommit'],
    ['a bad logLevel', { store: 'memory', logLevel: 'verbose' }, 'logLevel'],
    ['a non-string logLevel', { store: 'memory', logLevel: 3 }, 'logLevel'],
    ['a logger that is not pino', { store: 'memory', logger: { info: () => {} } }, 'logger'],
    ['console as the logger', { store: 'memory', logger: console }, 'logger'],
    ['a negative defaultPartition', { store: 'memory', defaultPartition: -1 }, 'defaultPartition'],
    ['a fractional defaultPartition', { store: 'memory', defaultPartition: 0.5 }, 'defaultPartition'],
    ['a string defaultPartition', { store: 'memory', defaultPartition: '1' }, 'defaultPartition'],
    ['lockTimeoutMs 0', { store: 'memory', lockTimeoutMs: 0 }, 'lockTimeoutMs'],
    ['a fractional lockTimeoutMs', { store: 'memory', lockTimeoutMs: 1.5 }, 'lockTimeoutMs'],
    ['idempotencyRetentionMs 0', { store: 'memory', idempotencyRetentionMs: 0 }, 'idempotencyRetentionMs'],
    ['a fractional idempotencyRetentionMs', { store: 'memory', idempotencyRetentionMs: 1.5 }, 'idempotencyRetentionMs'],
    ['a string idempotencyRetentionMs', { store: 'memory', idempotencyRetentionMs: '7d' }, 'idempotencyRetentionMs'],
    ['an infinite idempotencyRetentionMs', { store: 'memory', idempotencyRetentionMs: Number.POSITIVE_INFINITY }, 'idempotencyRetentionMs'],
  ];
  it.each(cases)('%s', (_label, config, field) => {
    const e = configError(() => resolveConfig(config, none));
    expect(e.field).toBe(field);
    expect(e.message.startsWith(`${field}: `)).toBe(true);
  });

  it('refuses an sqlite path that is a folder', () => {
    expect(configError(() => resolveConfig({ store: `sqlite:${tmp}` }, none)).field).toBe('store');
  });
});

function methodsOf(store: MemoryStore): Record<string, unknown> {
  return {
    open: store.open.bind(store),
    get: store.get.bind(store),
    getMany: store.getMany.bind(store),
    apply: store.apply.bind(store),
    list: store.list.bind(store),
    close: store.close.bind(store),
  };
}

@service('ConfigKept', { package: 'unit_config' })
class ConfigKept extends OaasObject {
  n = 0;
}

describe('configureOaas', () => {
  afterEach(async () => {
    await checkedShutdown();
  });

  it('accepts a methods-only store object', async () => {
    const store = new MemoryStore();
    await configureOaas({ store: { name: 'wrapped', ...methodsOf(store) } as never, autoCommit: false, logLevel: 'silent' });
    ConfigKept.create({ n: 1 }, { id: 'wrapped' });
    await commitAll();
    expect((await store.get({ clsId: 'unit_config.ConfigKept', partitionId: 0, objectId: 'wrapped' }))?.version).toBe(1);
  });

  it.each([
    ['an unknown key', { store: 'memory', autoComit: false }, 'autoComit'],
    ['interval 0', { store: 'memory', autoCommitIntervalMs: 0 }, 'autoCommitIntervalMs'],
    ['an unknown store', { store: 'ftp://host' }, 'store'],
    ['a bad logLevel', { store: 'memory', logLevel: 'loud' }, 'logLevel'],
  ])('rejects %s and leaves the previous runtime usable', async (_label, config, field) => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent', defaultPartition: 4 });
    const before = getAutoSessionManager();
    const obj = ConfigKept.create({ n: 5 }, { id: 'kept' });
    await commitAll();
    obj.n = 6;
    expect(before.pendingObjectCount).toBe(1);

    const error: unknown = await configureOaas(config as OaasConfig).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe(field);

    const after = getAutoSessionManager();
    expect(after).toBe(before);
    expect(after.isShutDown).toBe(false);
    expect(after.defaultPartition).toBe(4);
    expect(after.pendingObjectCount).toBe(1);
    expect(obj.n).toBe(6);
    expect(await ConfigKept.load('kept')).toBe(obj);
    await commitAll();
    expect(obj.version).toBe(2);
  });
});

describe('docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((line) => line.startsWith('| [`'));

  it('has a row in the options table for every option', () => {
    for (const field of CONFIG_FIELDS) expect(rows.some((row) => row.startsWith(`| [\`${field}\`]`)), field).toBe(true);
  });

  it('names, in that table, every OAAS_* variable the configuration reads', () => {
    const source = readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8');
    const variables = new Set(source.match(/\bOAAS_[A-Z_]+\b/g));
    expect(variables.size).toBeGreaterThanOrEqual(12);
    for (const name of variables) expect(rows.some((row) => row.includes(`\`${name}\``)), name).toBe(true);
  });
});

describe('cluster mode', () => {
  const pg = 'postgres://localhost/app';
  it('reads { url, leaseMs, id } with the lease and id defaulted', () => {
    expect(resolveConfig({ store: pg, cluster: { url: 'http://10.0.0.5:8080/' } }, none).cluster).toEqual({ url: 'http://10.0.0.5:8080', leaseMs: 10_000, id: 'http://10.0.0.5:8080' });
    expect(resolveConfig({ store: 'redis://localhost:6379', cluster: { url: 'http://a:1', leaseMs: 2000, id: 'web-1' } }, none).cluster).toEqual({ url: 'http://a:1', leaseMs: 2000, id: 'web-1' });
    expect(resolveConfig({ store: pg }, none).cluster).toBeUndefined();
  });

  it('reads OAAS_CLUSTER_URL, OAAS_CLUSTER_LEASE_MS and OAAS_CLUSTER_ID', () => {
    const env = { OAAS_STORE: pg, OAAS_CLUSTER_URL: 'http://10.0.0.6:8080', OAAS_CLUSTER_LEASE_MS: '4000', OAAS_CLUSTER_ID: 'pod-2' };
    expect(resolveConfig({}, env).cluster).toEqual({ url: 'http://10.0.0.6:8080', leaseMs: 4000, id: 'pod-2' });
    // The option wins over the variables for what it gives.
    expect(resolveConfig({ cluster: { url: 'http://b:2' } }, env).cluster).toEqual({ url: 'http://b:2', leaseMs: 4000, id: 'pod-2' });
  });

  it.each([
    ['memory', { store: 'memory' }],
    ['SQLite', { store: 'sqlite::memory:' }],
    ['a Store object', { store: new MemoryStore() }],
    ['mock mode', { mockMode: true }],
  ])('refuses the %s store: its processes cannot share it', (_label, config) => {
    const error = configError(() => resolveConfig({ ...(config as OaasConfig), cluster: { url: 'http://a:1' } }, none));
    expect(error.field).toBe('cluster');
    expect(error.message).toMatch(/postgres:\/\/ or redis:\/\//);
  });

  it.each([
    ['not an object', 'http://a:1', 'cluster'],
    ['null', null, 'cluster'],
    ['without a url', {}, 'cluster.url'],
    ['a url that is not http', { url: 'ftp://a' }, 'cluster.url'],
    ['a url that is not a string', { url: 8080 }, 'cluster.url'],
    ['a lease below 300 ms', { url: 'http://a:1', leaseMs: 299 }, 'cluster.leaseMs'],
    ['a fractional lease', { url: 'http://a:1', leaseMs: 1000.5 }, 'cluster.leaseMs'],
    ['a lease given as text', { url: 'http://a:1', leaseMs: '1000' }, 'cluster.leaseMs'],
    ['an id with a space', { url: 'http://a:1', id: 'web 1' }, 'cluster.id'],
    ['an empty id', { url: 'http://a:1', id: '' }, 'cluster.id'],
    ['an unknown field', { url: 'http://a:1', lease: 1000 }, 'lease'],
  ])('refuses a cluster option %s', (_label, cluster, field) => {
    expect(configError(() => resolveConfig({ store: pg, cluster } as OaasConfig, none)).field).toBe(field);
  });

  it.each([
    [{ OAAS_CLUSTER_URL: 'not a url' }, 'cluster.url (OAAS_CLUSTER_URL)'],
    [{ OAAS_CLUSTER_URL: 'http://a:1', OAAS_CLUSTER_LEASE_MS: 'soon' }, 'cluster.leaseMs (OAAS_CLUSTER_LEASE_MS)'],
    [{ OAAS_CLUSTER_URL: 'http://a:1', OAAS_CLUSTER_ID: 'a b' }, 'cluster.id (OAAS_CLUSTER_ID)'],
  ])('refuses malformed cluster variables %j, naming the variable', (env, field) => {
    expect(configError(() => resolveConfig({ store: pg }, env)).field).toBe(field);
  });
});
