import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { describeValue } from './describe.js';
import { ConfigurationError } from './errors.js';
import { checkBool, checkInt, checkKnownOptions, fromEnv, parseBool, parseNumber, type Env } from './config-checks.js';
import { resolveReminders, type ReminderConfig, type ResolvedReminderConfig } from './reminder-config.js';

export { checkKnownOptions } from './config-checks.js';
export type { ReminderConfig, ResolvedReminderConfig } from './reminder-config.js';
import { CLOCK_FUNCTIONS, systemClock, type Clock } from './clock.js';
import type { Store } from './stores/store.js';
import { redisDatabaseProblem } from './stores/redis/connection.js';
import { isMemberId } from './cluster/membership.js';
import { LazyStore } from './stores/lazy-store.js';
import { ODGM_SERVICE_VARIABLE } from './stores/odgm/address.js';
import { createStore, parseStoreSpec, type StoreSpec } from './stores/resolve-store.js';

/** Levels `logLevel` accepts (pino's). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * Runtime configuration. Every field may also come from an environment
 * variable; a field given here wins over the variable.
 */
export interface OaasConfig {
  /**
   * Where state lives: `'memory'`, `'sqlite:<path>'` (`'sqlite::memory:'` too), `postgres://...`,
   * `redis://...`, `odgm://<host>:<port>`, or a {@link Store}. With a {@link url} and no store, the
   * default file is created only when an object is loaded or committed in this process.
   * @default process.env.OAAS_STORE ?? (ODGM_SERVICE set, on the Oparaca platform: `odgm://${ODGM_SERVICE}`) ?? 'sqlite:.oaas/state.db'
   * @example 'sqlite:/var/lib/app/state.db?synchronous=normal'
   */
  store?: string | Store | undefined;
  /** Selects the memory store (for tests and demos). @default OAAS_MOCK_MODE ?? false */
  mockMode?: boolean | undefined;
  /** Commit pending changes in the background. @default OAAS_AUTO_COMMIT ?? true */
  autoCommit?: boolean | undefined;
  /** How often the background commit runs, in ms (> 0). @default OAAS_AUTO_COMMIT_INTERVAL_MS ?? 1000 */
  autoCommitIntervalMs?: number | undefined;
  /** Partition of objects created or loaded without one. @default OAAS_DEFAULT_PARTITION ?? 0 */
  defaultPartition?: number | undefined;
  /** How long a call waits for an object held by another context. @default OAAS_LOCK_TIMEOUT_MS ?? 5000 */
  lockTimeoutMs?: number | undefined;
  /** Connections in the PostgreSQL store's pool. @default OAAS_POOL_SIZE ?? 10 */
  poolSize?: number | undefined;
  /**
   * A Redis cache in front of the store (`redis://...`): loads read it first,
   * commits update it after the store commits. @default OAAS_CACHE
   */
  cache?: string | undefined;
  /**
   * How many objects may wait for a commit before new method calls wait for
   * the store to catch up (back-pressure). @default OAAS_MAX_PENDING_OBJECTS ?? 100000
   */
  maxPendingObjects?: number | undefined;
  /**
   * A remote OaaS server (`http://host:port`): the manual API's `objRpc` /
   * `fnRpc` then invoke through it instead of in this process. @default OAAS_URL
   */
  url?: string | undefined;
  /** Bearer token for {@link url}. @default OAAS_TOKEN */
  token?: string | undefined;
  /** A pino logger to log through (a child is used). */
  logger?: Logger | undefined;
  /** Level of the logger the SDK creates when none is given. @default OAAS_LOG_LEVEL ?? 'warn' */
  logLevel?: LogLevel | undefined;
  /**
   * The time source of the auto-commit timer, the back-off of failed
   * commits, pending ages and the shutdown deadline. Meant for tests and
   * simulations that move time by hand. @default the system clock (Date.now and the global timers)
   */
  clock?: Clock | undefined;
  /**
   * Cluster mode: several processes on one PostgreSQL or Redis store, each
   * object owned by one of them at a time (see docs/cluster.md).
   * @default from OAAS_CLUSTER_URL, OAAS_CLUSTER_LEASE_MS and OAAS_CLUSTER_ID; off when OAAS_CLUSTER_URL is unset
   */
  cluster?: ClusterConfig | undefined;
  /** Reminders (`schedule()`): whether this process fires them, how often it looks for due ones, how failures retry (see docs/reminders.md). */
  reminders?: ReminderConfig | undefined;
  /**
   * How long the store keeps an idempotency record (the first result of a
   * call with an `Idempotency-Key`, a trigger delivery's mark), in ms; `null`
   * keeps them for good. A repeat after that runs the call again. Records
   * expire as reminders do, so a store without their index (ODGM) keeps
   * them for good.
   * @default OAAS_IDEMPOTENCY_RETENTION_MS ?? 604800000 (7 days)
   */
  idempotencyRetentionMs?: number | null | undefined;
}

/** Options of cluster mode. */
export interface ClusterConfig {
  /** This process's base URL, where its `serve()` listens and the other processes reach it. */
  url: string;
  /** How long a silent process keeps what it owns, in ms. @default 10000 */
  leaseMs?: number | undefined;
  /** This process's member id: stable across restarts (a pod name, a host:port). @default the url */
  id?: string | undefined;
}

/** Cluster mode after defaults and validation. */
export interface ResolvedClusterConfig {
  readonly url: string;
  readonly leaseMs: number;
  readonly id: string;
}

/** The configuration after defaults, environment and validation. */
export interface ResolvedConfig {
  readonly store: StoreSpec | { readonly kind: 'custom'; readonly store: Store };
  readonly autoCommit: boolean;
  readonly autoCommitIntervalMs: number;
  readonly defaultPartition: number;
  readonly lockTimeoutMs: number;
  readonly poolSize: number;
  readonly cache: string | undefined;
  readonly maxPendingObjects: number;
  readonly url: string | undefined;
  readonly token: string | undefined;
  readonly logger: Logger | undefined;
  readonly logLevel: LogLevel;
  readonly clock: Clock;
  readonly cluster: ResolvedClusterConfig | undefined;
  readonly reminders: ResolvedReminderConfig;
  /** `null`: idempotency records are kept for good. */
  readonly idempotencyRetentionMs: number | null;
}

const LOG_LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** Every option {@link OaasConfig} has (anything else is refused). */
export const CONFIG_FIELDS: ReadonlySet<string> = new Set([
  'store',
  'mockMode',
  'autoCommit',
  'autoCommitIntervalMs',
  'defaultPartition',
  'lockTimeoutMs',
  'poolSize',
  'cache',
  'maxPendingObjects',
  'url',
  'token',
  'logger',
  'logLevel',
  'clock',
  'cluster',
  'reminders',
  'idempotencyRetentionMs',
]);

function checkLevel(value: unknown, field: string): LogLevel | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !LOG_LEVELS.has(value)) {
    throw new ConfigurationError(field, `expected one of ${[...LOG_LEVELS].join(', ')}, got ${describeValue(value)}`);
  }
  return value as LogLevel;
}

function isStore(value: object): value is Store {
  const s = value as Partial<Store>;
  return ['open', 'get', 'getMany', 'apply', 'list', 'close'].every((m) => typeof s[m as keyof Store] === 'function');
}

function checkClock(value: unknown, field: string): Clock | undefined {
  if (value === undefined) return undefined;
  const expected = `expected a clock with ${CLOCK_FUNCTIONS.join(', ')} functions`;
  if (typeof value !== 'object' || value === null) throw new ConfigurationError(field, `${expected}, got ${describeValue(value)}`);
  const missing = CLOCK_FUNCTIONS.filter((name) => typeof (value as Partial<Record<string, unknown>>)[name] !== 'function');
  if (missing.length > 0) throw new ConfigurationError(field, `${expected}; missing: ${missing.join(', ')}`);
  return value as Clock;
}

function isLogger(value: unknown): value is Logger {
  const l = value as Partial<Logger> | null;
  return typeof l === 'object' && l !== null && typeof l.child === 'function' && typeof l.error === 'function';
}

/**
 * Validates a configuration against the environment and fills in defaults.
 * Throws {@link ConfigurationError} naming the field (and variable) at fault.
 */
export function resolveConfig(config: OaasConfig = {}, env: Env = process.env): ResolvedConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigurationError('config', 'expected an object');
  }
  checkKnownOptions(config, CONFIG_FIELDS);
  const mockMode = checkBool(config.mockMode, 'mockMode') ?? fromEnv(env, 'OAAS_MOCK_MODE', 'mockMode', parseBool) ?? false;
  const url = checkUrl(config.url, 'url') ?? fromEnv(env, 'OAAS_URL', 'url', checkUrl);

  let store: ResolvedConfig['store'];
  const given: unknown = config.store;
  if (mockMode && given === undefined) {
    store = { kind: 'memory' };
  } else if (typeof given === 'object' && given !== null) {
    if (!isStore(given)) throw new ConfigurationError('store', 'a store object must implement open, get, getMany, apply, list and close');
    store = { kind: 'custom', store: given };
  } else if (given === undefined) {
    const fromVar = env.OAAS_STORE;
    store = fromVar === undefined || fromVar === '' ? (platformStore(env) ?? defaultStore(url)) : parseSpec(fromVar, 'store (OAAS_STORE)');
  } else if (typeof given === 'string') {
    store = parseSpec(given, 'store');
  } else {
    throw new ConfigurationError('store', `expected a string or a Store, got ${typeof given}`);
  }

  const interval =
    checkInterval(config.autoCommitIntervalMs, 'autoCommitIntervalMs') ??
    fromEnv(env, 'OAAS_AUTO_COMMIT_INTERVAL_MS', 'autoCommitIntervalMs', (raw, f) => checkInterval(parseNumber(raw, f), f)) ??
    1000;

  if (config.logger !== undefined && !isLogger(config.logger)) {
    throw new ConfigurationError('logger', 'expected a pino logger (with child() and error())');
  }

  const cluster = resolveCluster(config.cluster, env, store);

  return {
    store,
    cluster,
    autoCommit: checkBool(config.autoCommit, 'autoCommit') ?? fromEnv(env, 'OAAS_AUTO_COMMIT', 'autoCommit', parseBool) ?? true,
    autoCommitIntervalMs: interval,
    defaultPartition:
      checkInt(config.defaultPartition, 'defaultPartition', 0) ??
      fromEnv(env, 'OAAS_DEFAULT_PARTITION', 'defaultPartition', (raw, f) => checkInt(parseNumber(raw, f), f, 0)) ??
      0,
    lockTimeoutMs:
      checkInt(config.lockTimeoutMs, 'lockTimeoutMs', 1) ??
      fromEnv(env, 'OAAS_LOCK_TIMEOUT_MS', 'lockTimeoutMs', (raw, f) => checkInt(parseNumber(raw, f), f, 1)) ??
      5000,
    poolSize:
      checkInt(config.poolSize, 'poolSize', 1) ?? fromEnv(env, 'OAAS_POOL_SIZE', 'poolSize', (raw, f) => checkInt(parseNumber(raw, f), f, 1)) ?? 10,
    cache: checkCache(config.cache, 'cache') ?? fromEnv(env, 'OAAS_CACHE', 'cache', checkCache),
    maxPendingObjects:
      checkInt(config.maxPendingObjects, 'maxPendingObjects', 1) ??
      fromEnv(env, 'OAAS_MAX_PENDING_OBJECTS', 'maxPendingObjects', (raw, f) => checkInt(parseNumber(raw, f), f, 1)) ??
      100_000,
    url,
    token: checkToken(config.token, 'token') ?? fromEnv(env, 'OAAS_TOKEN', 'token', checkToken),
    logger: config.logger,
    logLevel: checkLevel(config.logLevel, 'logLevel') ?? fromEnv(env, 'OAAS_LOG_LEVEL', 'logLevel', checkLevel) ?? 'warn',
    clock: checkClock(config.clock, 'clock') ?? systemClock,
    reminders: resolveReminders(config.reminders, env),
    idempotencyRetentionMs:
      config.idempotencyRetentionMs === null
        ? null
        : (checkInt(config.idempotencyRetentionMs, 'idempotencyRetentionMs', 1) ??
          fromEnv(env, 'OAAS_IDEMPOTENCY_RETENTION_MS', 'idempotencyRetentionMs', (raw, f) => checkInt(parseNumber(raw, f), f, 1)) ??
          7 * 24 * 60 * 60 * 1000),
  };
}

/** Lease bounds in cluster mode: a heartbeat runs every third of it, so below 300 ms a slow statement would lose it. */
const CLUSTER_LEASE_MS = { min: 300, max: 86_400_000, default: 10_000 } as const;
const CLUSTER_FIELDS: ReadonlySet<string> = new Set(['url', 'leaseMs', 'id']);

/** Cluster mode: from the option, else from the OAAS_CLUSTER_URL variables; refused on a store the processes cannot share. */
function resolveCluster(given: unknown, env: Env, store: ResolvedConfig['store']): ResolvedClusterConfig | undefined {
  let url: string | undefined;
  let leaseMs: number | undefined;
  let id: string | undefined;
  if (given !== undefined) {
    if (typeof given !== 'object' || given === null || Array.isArray(given)) {
      throw new ConfigurationError('cluster', `expected { url, leaseMs?, id? }, got ${describeValue(given)}`);
    }
    checkKnownOptions(given, CLUSTER_FIELDS);
    const fields = given as Record<string, unknown>;
    url = checkUrl(fields.url, 'cluster.url');
    if (url === undefined) throw new ConfigurationError('cluster.url', "expected this process's http(s) base URL, where its serve() listens");
    leaseMs = checkLease(fields.leaseMs, 'cluster.leaseMs');
    id = checkMemberIdOption(fields.id, 'cluster.id');
  } else {
    url = fromEnv(env, 'OAAS_CLUSTER_URL', 'cluster.url', checkUrl);
    if (url === undefined) return undefined;
  }
  leaseMs ??= fromEnv(env, 'OAAS_CLUSTER_LEASE_MS', 'cluster.leaseMs', (raw, f) => checkLease(parseNumber(raw, f), f)) ?? CLUSTER_LEASE_MS.default;
  id ??= fromEnv(env, 'OAAS_CLUSTER_ID', 'cluster.id', checkMemberIdOption) ?? url;
  if (store.kind !== 'postgres' && store.kind !== 'redis') {
    throw new ConfigurationError(
      'cluster',
      `cluster mode needs a store the processes share, given as a postgres:// or redis:// URL; the ${store.kind === 'custom' ? 'store object given' : `${store.kind} store`} cannot hold the cluster's leases`,
    );
  }
  return { url, leaseMs, id };
}

function checkLease(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < CLUSTER_LEASE_MS.min || value > CLUSTER_LEASE_MS.max) {
    throw new ConfigurationError(field, `expected an integer from ${CLUSTER_LEASE_MS.min} to ${CLUSTER_LEASE_MS.max} (ms), got ${describeValue(value)}`);
  }
  return value;
}

function checkMemberIdOption(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isMemberId(value)) throw new ConfigurationError(field, `expected 1 to 256 visible ASCII characters without spaces, got ${describeValue(value)}`);
  return value;
}

function checkUrl(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigurationError(field, `expected an http(s) URL, got ${describeValue(value)}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ConfigurationError(field, 'expected an http(s) URL', { cause: error });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigurationError(field, 'expected an http(s) URL');
  return value.replace(/\/+$/, '');
}

function checkToken(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || /\s/.test(value)) throw new ConfigurationError(field, 'expected a non-empty token without spaces');
  return value;
}

function checkCache(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ConfigurationError(field, `expected a redis:// URL, got ${describeValue(value)}`);
  const spec = parseSpec(value, field);
  if (spec.kind !== 'redis') throw new ConfigurationError(field, 'the cache must be a redis:// URL');
  return spec.url;
}

const DEFAULT_STORE = 'sqlite:.oaas/state.db';

/**
 * The store used when none is asked for: `sqlite:.oaas/state.db`. With a
 * remote `url` the manual API invokes through the server, so the file (and
 * its folder) is created only when something is loaded or committed here:
 * a process that only calls the server leaves nothing on disk.
 */
function defaultStore(url: string | undefined): ResolvedConfig['store'] {
  if (url === undefined) return parseSpec(DEFAULT_STORE, 'store');
  // Resolved now, against the current directory of the configuration, like an eager path.
  const path = resolvePath(DEFAULT_STORE.slice('sqlite:'.length));
  // Asking for due objects opens the file only when it is there: a file that is not has nothing due.
  const store = new LazyStore('sqlite', () => createStore(parseStoreSpec(`sqlite:${path}`, 'store')), { due: true, exists: () => existsSync(path) });
  return { kind: 'custom', store };
}

/**
 * On the Oparaca platform, the store is the deployment's ODGM: the platform
 * sets `ODGM_SERVICE` (with `ODGM_ENABLED=true`) in a function runtime's
 * container, and its gateway and other functions read objects there, so
 * state kept in a file in the container would be invisible to them and lost
 * with it. `ODGM_ENABLED=false` keeps the usual default.
 */
function platformStore(env: Env): StoreSpec | undefined {
  const address = env[ODGM_SERVICE_VARIABLE]?.trim();
  if (address === undefined || address === '') return undefined;
  if (fromEnv(env, 'ODGM_ENABLED', 'store', parseBool) === false) return undefined;
  return parseSpec(`odgm://${address}`, `store (${ODGM_SERVICE_VARIABLE})`);
}

/** {@link parseStoreSpec}, and a Redis URL's database checked now rather than silently replaced by 0 at open. */
function parseSpec(text: string, field: string): StoreSpec {
  const spec = parseStoreSpec(text, field);
  if (spec.kind === 'redis') {
    const problem = redisDatabaseProblem(spec.url);
    if (problem !== undefined) throw new ConfigurationError(field, problem);
  }
  return spec;
}

/**
 * Validates an auto-commit interval: a finite number of milliseconds > 0.
 * `fail` builds the error (a `ConfigurationError` by default), so a caller
 * that reports an argument gets its own error class without re-wrapping a
 * message that already starts with the field's name.
 */
export function checkInterval(
  value: unknown,
  field = 'autoCommitIntervalMs',
  fail: (field: string, message: string) => Error = (f, m) => new ConfigurationError(f, m),
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw fail(field, `must be a number of milliseconds > 0, got ${describeValue(value)}`);
  }
  if (value > 2_147_483_647) throw fail(field, 'must be at most 2147483647 ms');
  return value;
}
