/**
 * The Redis backend's connection: how its ioredis client is configured,
 * connected, checked and closed.
 */
import type { ChainableCommander, Redis, RedisOptions } from 'ioredis';
import { backoffDelay } from '../../backoff.js';
import { describeValue } from '../../describe.js';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import { connectionClosed, unexpectedReply } from './errors.js';
import { loadDriver } from '../optional-driver.js';
import { driverLoaded, KeyLayout, SCHEMA_VERSION } from './scripts.js';

/**
 * Builds the store's own client, loading ioredis only now so that installs
 * that never use Redis need not have it.
 */
export async function createClient(url: string, connectTimeoutMs: number, commandTimeoutMs: number): Promise<Redis> {
  // ioredis reads `/abc` or `/1/x` as some database (or none) without a word: refuse them before connecting.
  const problem = redisDatabaseProblem(url);
  if (problem !== undefined) throw new StoreError(`redis open failed: ${problem}`, { transient: false });
  const driver = await loadDriver('ioredis', 'store', 'the redis store', () => import('ioredis'));
  driverLoaded(driver);
  const RedisClient = driver.Redis;
  const settings: RedisOptions = {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    // Fail fast rather than queue: a command sent while disconnected rejects at once, and commands in
    // flight when the connection drops reject instead of being resent after a reconnect (a resent
    // batch could be applied twice, or after its caller was told it failed). Every call waits for
    // the first connection before sending, so no queue is needed at start either.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Reconnect forever, at most a second apart, so the store heals by itself when the server is back.
    retryStrategy: (attempt: number) => backoffDelay(attempt, 100, 1000),
  };
  return new RedisClient(url, settings);
}

/** The largest database index a Redis server can be configured with (`databases` is a C int). */
const MAX_DATABASE = 2_147_483_647;

/**
 * Why the database a `redis://` URL names is unusable (`undefined` when it
 * is fine): the path must be empty, `/` or `/<n>` and `?db=`, if given,
 * `<n>`, an integer >= 0, given once. How many databases exist is the
 * server's setting (16 by default), so the upper bound is checked at open.
 */
export function redisDatabaseProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'malformed redis URL';
  }
  // Show the path and query only: the rest of the URL may carry a password.
  const fromPath = parsed.pathname === '' || parsed.pathname === '/' ? undefined : parsed.pathname.slice(1);
  const fromQuery = parsed.searchParams.getAll('db');
  if (fromQuery.length > 1 || (fromQuery.length === 1 && fromPath !== undefined)) return 'the database is given more than once (path and ?db=)';
  const given = fromPath ?? fromQuery[0];
  if (given === undefined) return undefined;
  if (!/^\d+$/.test(given) || Number(given) > MAX_DATABASE) {
    const shown = fromPath === undefined ? `?db=${given}` : `/${given}`;
    return `the database ${JSON.stringify(shown)} must be an integer >= 0, as in redis://host:6379/2`;
  }
  return undefined;
}

/** What {@link waitUntilReady} needs besides the client. */
export interface ReadyWait {
  readonly url: string;
  readonly timeoutMs: number;
  /** The last error the client emitted, reported as the cause of a failure. */
  readonly lastError: () => Error | undefined;
}

/**
 * Connects (unless the client is connecting already) and waits, bounded,
 * for ioredis's ready check to pass. ioredis's own `connectTimeout` covers
 * only the TCP connect, not a server that accepts and then stays busy
 * loading its data, so the whole wait gets a deadline here.
 */
export async function waitUntilReady(client: Redis, wait: ReadyWait): Promise<void> {
  await connected(client, wait);
  await checkDatabase(client);
}

/**
 * Selects the configured database again and fails if the server refuses it.
 * ioredis sends that SELECT on connect but only emits its refusal (`ERR DB
 * index is out of range`) as an event, then goes on in database 0: every
 * write would land in the wrong database without a word.
 */
async function checkDatabase(client: Redis): Promise<void> {
  const db = client.options.db;
  if (db === undefined || !Number.isSafeInteger(db) || db === 0) return;
  try {
    await client.select(db);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(
      `redis open failed: the server refused database ${db} (${reason}); it has fewer databases, see its "databases" setting`,
      { transient: false },
      { cause: error },
    );
  }
}

async function connected(client: Redis, wait: ReadyWait): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') client.connect().catch(() => undefined); // the events below report the outcome
  else if (client.status === 'end') throw connectionClosed();
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = (): void => { settle(); };
    const onClose = (): void => { settle(wait.lastError() ?? connectionClosed()); };
    const timer = setTimeout(() => {
      const message = `redis open failed: no connection to ${redact(wait.url)} within ${wait.timeoutMs} ms`;
      settle(new StoreError(message, { transient: true }, { cause: wait.lastError() }));
    }, wait.timeoutMs);
    client.once('ready', onReady);
    client.once('close', onClose);
  });
}

/** Records the schema version on first use; a database written by another release is refused, not misread. */
export async function checkSchema(client: Redis, metaKey: string): Promise<void> {
  const [, found] = await execAll(client.multi().hsetnx(metaKey, 'schema_version', SCHEMA_VERSION).hget(metaKey, 'schema_version'), 2);
  if (found === SCHEMA_VERSION) return;
  throw new StoreError(
    `redis open failed: ${metaKey} has schema version ${String(found)}; this release of oaas-sdk supports schema version ${SCHEMA_VERSION}`,
    { transient: false },
  );
}

/** Runs a MULTI and returns its replies, throwing the first command error. */
export async function execAll(multi: ChainableCommander, count: number): Promise<unknown[]> {
  const results = await multi.exec();
  if (results?.length !== count) throw unexpectedReply(`MULTI reply: ${results === null ? 'null' : `${results.length} replies`}, expected ${count}`);
  return results.map(([error, result]) => {
    if (error !== null) throw error;
    return result;
  });
}

/** Quits gracefully (pending replies arrive first), and drops the connection even when the server is gone. */
export async function quit(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    // The connection is down or hung; disconnect() below drops it either way.
  } finally {
    client.disconnect();
  }
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable url)';
  }
}

/** What a Redis part of the SDK (the store, the membership) connects with, checked. */
export interface ConnectionSettings {
  readonly url: string;
  readonly layout: KeyLayout;
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** A client the caller owns, used instead of one built from `url`. */
  readonly client: Redis | undefined;
}

/**
 * Checks the connection options the store and the membership share (typed
 * callers cannot pass bad values, but configuration read from files and
 * plain JS can).
 */
export function checkConnectionOptions(options: unknown, defaultCommandTimeoutMs: number): ConnectionSettings {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `must be an object, got ${describeValue(options)}`);
  const { url, keyPrefix = 'oaas', connectTimeoutMs = 5000, commandTimeoutMs = defaultCommandTimeoutMs, client } = options as Record<string, unknown>;
  if (client !== undefined && (typeof client !== 'object' || client === null)) throw new InvalidArgumentError('options.client', `must be an ioredis client, got ${describeValue(client)}`);
  if (typeof url !== 'string' || (url === '' && client === undefined)) throw new InvalidArgumentError('options.url', `must be a non-empty string, got ${describeValue(url)}`);
  if (typeof keyPrefix !== 'string' || keyPrefix === '' || /[{}]/.test(keyPrefix)) {
    throw new InvalidArgumentError('options.keyPrefix', `must be a non-empty string without '{' or '}', got ${describeValue(keyPrefix)}`);
  }
  for (const [name, value] of [['connectTimeoutMs', connectTimeoutMs], ['commandTimeoutMs', commandTimeoutMs]] as const) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`options.${name}`, `must be a positive integer, got ${describeValue(value)}`);
  }
  return { url, layout: new KeyLayout(keyPrefix), connectTimeoutMs: connectTimeoutMs as number, commandTimeoutMs: commandTimeoutMs as number, client: client as Redis | undefined };
}
