/**
 * Store specs: the one-line strings (`memory`, `sqlite:.oaas/state.db`) that
 * configuration and `OAAS_STORE` use to name a backend, and the factory that
 * turns a parsed spec into an open store.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigurationError } from '../errors.js';
import type { EntryKeyRule } from '../object/state-fields.js';
import { MemoryStore } from './memory/memory-store.js';
import { addressProblem } from './odgm/address.js';
import { ODGM_ENTRY_KEYS } from './odgm/names.js';
import { OdgmStore } from './odgm/odgm-store.js';
import type { Store } from './store.js';

/** A parsed store spec: which backend, with its settings. */
export type StoreSpec =
  | { readonly kind: 'memory' }
  | {
      readonly kind: 'sqlite';
      /** An absolute file path, or `:memory:`. */
      readonly path: string;
      readonly synchronous: 'full' | 'normal';
    }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'redis'; readonly url: string }
  /** ODGM's DataService, `host:port`. */
  | { readonly kind: 'odgm'; readonly address: string };

/** Settings a store spec does not carry. */
export interface StoreSettings {
  /** Connections in the PostgreSQL pool. */
  readonly poolSize?: number | undefined;
  /** Cluster mode: the membership lease, which bounds a fenced PostgreSQL transaction's locks and idle time. */
  readonly leaseMs?: number | undefined;
}

const SUPPORTED = 'supported: memory, sqlite:<path>[?synchronous=full|normal], postgres://..., redis://..., odgm://<host>:<port>';
const SQLITE_OPTIONS = new Set(['synchronous']);

/**
 * Parses a store spec string. Accepts `memory` and `sqlite:<path>` with an
 * optional `?synchronous=normal|full` (default `full`); `sqlite::memory:` is a
 * private in-memory SQLite database. Surrounding whitespace (as an
 * environment variable may carry) is ignored.
 *
 * A relative path is resolved against the current directory now, and its
 * parent folder is created now, so a bad path fails at configuration time
 * rather than at the first commit. A `?` always starts the query, so paths
 * cannot contain one.
 *
 * @param field names the setting in errors, e.g. `store (OAAS_STORE)`.
 * @throws ConfigurationError for anything else.
 * @example
 * parseStoreSpec('sqlite:.oaas/state.db?synchronous=normal');
 * // { kind: 'sqlite', path: '/app/.oaas/state.db', synchronous: 'normal' }
 */
export function parseStoreSpec(spec: string, field = 'store'): StoreSpec {
  if (typeof spec !== 'string') {
    throw new ConfigurationError(field, `must be a string such as "memory" or "sqlite:<path>", got ${(spec as unknown) === null ? 'null' : typeof spec}`);
  }
  const text = spec.trim();
  if (text === 'memory') return { kind: 'memory' };
  if (text.startsWith('sqlite:')) return parseSqlite(text.slice('sqlite:'.length), field);
  if (/^postgres(ql)?:\/\//.test(text)) return { kind: 'postgres', url: checkUrl(text, field) };
  if (/^rediss?:\/\//.test(text)) return { kind: 'redis', url: checkUrl(text, field) };
  if (text.startsWith('odgm://')) return parseOdgm(text.slice('odgm://'.length), field);
  // Name only the scheme: a spec like postgres://user:secret@host must not end up in logs.
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(text)?.[0];
  const shown = scheme === undefined ? JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text) : `scheme "${scheme}"`;
  throw new ConfigurationError(field, `unknown store ${shown}; ${SUPPORTED}`);
}

function checkUrl(text: string, field: string): string {
  // The URL may hold a password: report the scheme only, and keep no parse error (its `input` is the URL).
  if (!URL.canParse(text) || new URL(text).hostname === '') throw new ConfigurationError(field, `malformed ${text.slice(0, text.indexOf(':'))} URL`);
  return text;
}

/** `odgm://host:port`: the DataService's address, nothing else (no path, query or credentials). */
function parseOdgm(address: string, field: string): StoreSpec {
  const problem = addressProblem(address);
  // Echo the spec unless it holds credentials, which an address has no place for.
  const shown = address.includes('@') ? '' : ` ${JSON.stringify(`odgm://${address}`)}`;
  if (problem !== undefined) throw new ConfigurationError(field, `malformed odgm store${shown}: ${problem}; expected odgm://<host>:<port>`);
  return { kind: 'odgm', address };
}

function parseSqlite(rest: string, field: string): StoreSpec {
  const question = rest.indexOf('?');
  const path = question === -1 ? rest : rest.slice(0, question);
  const query = new URLSearchParams(question === -1 ? '' : rest.slice(question + 1));
  for (const name of new Set(query.keys())) {
    if (!SQLITE_OPTIONS.has(name)) throw new ConfigurationError(field, `unknown sqlite option "${name}"; the only option is synchronous=full|normal`);
    if (query.getAll(name).length > 1) throw new ConfigurationError(field, `sqlite option "${name}" is given more than once`);
  }
  const synchronous = query.get('synchronous') ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new ConfigurationError(field, `sqlite option synchronous must be full or normal, got "${synchronous}"`);
  }
  if (path === '') throw new ConfigurationError(field, 'sqlite needs a path, e.g. sqlite:.oaas/state.db or sqlite::memory:');
  if (path === ':memory:') return { kind: 'sqlite', path, synchronous };
  const absolute = resolve(path);
  const parent = dirname(absolute);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (error) {
    throw new ConfigurationError(field, `cannot create the folder ${parent} for the sqlite database`, { cause: error });
  }
  let isDirectory: boolean;
  try {
    isDirectory = statSync(absolute, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch (error) {
    throw new ConfigurationError(field, `cannot use ${absolute} as the sqlite database`, { cause: error });
  }
  if (isDirectory) throw new ConfigurationError(field, `sqlite path ${absolute} is a directory; name a database file inside it`);
  return { kind: 'sqlite', path: absolute, synchronous };
}

/**
 * Creates and opens the store a spec names. Backends are imported only when
 * asked for, so users of one never load the drivers of the others.
 */
export async function createStore(spec: StoreSpec, settings: StoreSettings = {}): Promise<Store> {
  let store: Store;
  switch (spec.kind) {
    case 'postgres': {
      const { PostgresStore } = await import('./postgres/postgres-store.js');
      store = new PostgresStore({ url: spec.url, poolSize: settings.poolSize, leaseMs: settings.leaseMs });
      break;
    }
    case 'redis': {
      const { RedisStore } = await import('./redis/redis-store.js');
      store = new RedisStore({ url: spec.url });
      break;
    }
    case 'odgm':
      store = new OdgmStore({ address: spec.address });
      break;
    case 'memory':
      store = new MemoryStore();
      break;
    case 'sqlite': {
      const { SqliteStore } = await import('./sqlite/sqlite-store.js');
      store = new SqliteStore({ path: spec.path, synchronous: spec.synchronous });
      break;
    }
    default: {
      const unknown: never = spec;
      throw new ConfigurationError('store', `unknown store kind ${JSON.stringify((unknown as { kind?: unknown }).kind)}; ${SUPPORTED}`);
    }
  }
  try {
    await store.open();
  } catch (error) {
    // Release the file handle a half-open store may hold; the open error is the one that matters.
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}

/**
 * How the configured store keeps entry keys, when not as given: the ODGM
 * store (from a spec, or an `OdgmStore` passed as the store) lowercases
 * them, so classes are stored under lowercased field keys.
 */
export function entryKeyRuleOf(store: StoreSpec | { readonly kind: 'custom'; readonly store: Store }): EntryKeyRule | undefined {
  const odgm = store.kind === 'odgm' || (store.kind === 'custom' && store.store instanceof OdgmStore);
  return odgm ? ODGM_ENTRY_KEYS : undefined;
}
