// Errors built from a field name and a message never name the field twice ("ms: ms: must be ...").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import {
  ConfigurationError,
  InvalidArgumentError,
  OaasError,
  Oparaca,
  connect,
  createApp,
  exportPackage,
  runInSession,
  serve,
  sessionScope,
  setAutoCommitInterval,
  shutdown,
} from '../../src/index.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { freshRuntime } from '../support/runtime.js';

/** The field an error's message starts with, when it is one that is built from a field name. */
function fieldOf(error: OaasError): string | undefined {
  if (error instanceof ConfigurationError) return error.field;
  if (error instanceof InvalidArgumentError) return error.argument;
  return undefined;
}

/** True when the message repeats its leading `<name>: ` prefix, or names its field twice at the start. */
function doubled(error: OaasError): boolean {
  const field = fieldOf(error);
  if (field !== undefined && error.message.startsWith(`${field}: ${field}`)) return true;
  const [first, second] = error.message.split(': ');
  return first !== undefined && first === second;
}

const env = { OAAS_STORE: 'memory' };

/** Calls that fail validation, each building its error from a field name. */
const failing: [string, () => unknown][] = [
  ['setAutoCommitInterval(0)', () => setAutoCommitInterval(0)],
  ["setAutoCommitInterval('5')", () => setAutoCommitInterval('5' as never)],
  ['setAutoCommitInterval(2 ** 31)', () => setAutoCommitInterval(2 ** 31)],
  ['autoCommitIntervalMs 0', () => resolveConfig({ autoCommitIntervalMs: 0 }, env)],
  ['autoCommitIntervalMs 2 ** 31', () => resolveConfig({ autoCommitIntervalMs: 2 ** 31 }, env)],
  ['OAAS_AUTO_COMMIT_INTERVAL_MS=-5', () => resolveConfig({}, { ...env, OAAS_AUTO_COMMIT_INTERVAL_MS: '-5' })],
  ['OAAS_AUTO_COMMIT_INTERVAL_MS=abc', () => resolveConfig({}, { ...env, OAAS_AUTO_COMMIT_INTERVAL_MS: 'abc' })],
  ['OAAS_DEFAULT_PARTITION=-1', () => resolveConfig({}, { ...env, OAAS_DEFAULT_PARTITION: '-1' })],
  ['OAAS_LOCK_TIMEOUT_MS=0', () => resolveConfig({}, { ...env, OAAS_LOCK_TIMEOUT_MS: '0' })],
  ['OAAS_POOL_SIZE=x', () => resolveConfig({}, { ...env, OAAS_POOL_SIZE: 'x' })],
  ['OAAS_MAX_PENDING_OBJECTS=0', () => resolveConfig({}, { ...env, OAAS_MAX_PENDING_OBJECTS: '0' })],
  ['OAAS_MOCK_MODE=maybe', () => resolveConfig({}, { OAAS_MOCK_MODE: 'maybe' })],
  ['OAAS_LOG_LEVEL=loud', () => resolveConfig({}, { ...env, OAAS_LOG_LEVEL: 'loud' })],
  ['OAAS_URL=ftp://x', () => resolveConfig({}, { ...env, OAAS_URL: 'ftp://x' })],
  ['OAAS_TOKEN=two words', () => resolveConfig({}, { ...env, OAAS_TOKEN: 'two words' })],
  ['OAAS_CACHE=memory', () => resolveConfig({}, { ...env, OAAS_CACHE: 'memory' })],
  ['OAAS_STORE=sqlite:', () => resolveConfig({}, { OAAS_STORE: 'sqlite:' })],
  ['OAAS_STORE=redis://h/abc', () => resolveConfig({}, { OAAS_STORE: 'redis://h/abc' })],
  ['an unknown config key', () => resolveConfig({ stroe: 'memory' } as never, env)],
  ['a bad logger', () => resolveConfig({ logger: console } as never, env)],
  ['serve port -1', () => serve({ port: -1 })],
  ['serve unknown option', () => serve({ port: 0, prot: 1 } as never)],
  ['createApp token', () => createApp({ token: '' })],
  ['createApp bodyLimitBytes', () => createApp({ bodyLimitBytes: 0 })],
  ['Oparaca unknown option', () => new Oparaca({ mockmode: true } as never)],
  ['Oparaca bad config', () => new Oparaca({ config: { lockTimeoutMs: 0 } })],
  ['shutdown timeoutMs -1', () => shutdown({ timeoutMs: -1 })],
  ['runInSession(42)', () => runInSession(42 as never)],
  ['sessionScope(42)', () => sessionScope(42 as never)],
  ['RedisStore url 5', () => new RedisStore({ url: 5 } as never)],
  ['RedisStore keyPrefix {', () => new RedisStore({ url: 'redis://h', keyPrefix: '{x}' })],
  ['PostgresStore url 5', () => new PostgresStore({ url: 5 } as never)],
  ['SqliteStore path 5', () => new SqliteStore({ path: 5 } as never)],
  ['connect url', () => connect({ url: 'not a url' })],
  ['exportPackage format', () => exportPackage({ format: 'xml' } as never)],
];

describe('error messages', () => {
  beforeAll(async () => {
    await freshRuntime();
  });
  afterAll(async () => {
    await shutdown({ timeoutMs: 2000 }).catch(() => undefined);
  });

  it('detect a doubled prefix (the check itself)', () => {
    expect(doubled(new InvalidArgumentError('ms', 'ms: must be > 0'))).toBe(true);
    expect(doubled(new ConfigurationError('port (HTTP_PORT)', 'port (HTTP_PORT): bad'))).toBe(true);
    expect(doubled(new InvalidArgumentError('ms', 'must be > 0'))).toBe(false);
  });

  it.each(failing)('%s: names its field once', async (_label, call) => {
    let error: unknown;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OaasError);
    expect((error as Error).message).not.toBe('');
    expect(doubled(error as OaasError), (error as Error).message).toBe(false);
  });
});
