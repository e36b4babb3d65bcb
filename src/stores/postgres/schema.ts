/**
 * The PostgreSQL schema, created on open, and every statement the store runs
 * over it (kept together so table and column names live in one file).
 *
 * Object and entry ids use the "C" collation, so indexes, `ORDER BY` and the
 * prefix ranges of `list` compare UTF-8 bytes (code points), the order every
 * other backend gives, whatever the database's default collation is.
 * `oaas_meta` records the schema version, so a database written by another
 * release is refused instead of being misread.
 */
import type { Pool, PoolClient } from 'pg';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import { MAX_PARTITION_ID, keyString, type Isolation, type ObjectKey } from '../store.js';
import { checkKey } from '../validate.js';
import { translateError } from './errors.js';
import { migrateFromLayout1 } from './migrate.js';

/** The schema version this release reads and writes: layout 2, one row per object (see `../state-document.ts`). */
export const SCHEMA_VERSION = '2';
/** The layout the previous releases wrote (a row per entry); migrated in place on open (`migrate.ts`). */
export const LAYOUT_1 = '1';

/**
 * The advisory lock that serialises schema creation across processes
 * ("oaas" in ASCII). Concurrent `CREATE TABLE IF NOT EXISTS` is not safe in
 * PostgreSQL: two sessions can both decide to create and one then fails on a
 * catalog unique index.
 */
const SCHEMA_LOCK = 0x6f616173;

const META_DDL = `
CREATE TABLE IF NOT EXISTS oaas_meta (
  key text PRIMARY KEY,
  value text NOT NULL
)`;

/**
 * Half of each page of `oaas_objects` is left free when rows are inserted,
 * so that a commit rewriting every row of a page can put each new version
 * next to the old one: a HOT update, which writes no index entry and about a
 * third of the WAL (measured in docs/benchmarks.md, scenario 3b). The cost is
 * about twice the table's size on disk; the indexes do not grow.
 */
export const OBJECTS_FILLFACTOR = 50;

// `state` is text, not jsonb: it is written and read back byte-exact, and the
// server does not parse it (cast it, `state::jsonb`, to query fields).
// `wake_at` is the object's wake time (ms since the epoch), null when it has
// none. `oaas_objects_wake` holds only the rows that have one, in the order
// `due` returns them (wake time, then key in "C" order), so `due` reads
// `limit` index entries instead of sorting every due row.
const TABLES_DDL = `
CREATE TABLE IF NOT EXISTS oaas_objects (
  cls_id text NOT NULL,
  partition_id integer NOT NULL,
  object_id text COLLATE "C" NOT NULL,
  version bigint NOT NULL,
  state text NOT NULL,
  raw text,
  entry_count integer NOT NULL,
  wake_at bigint,
  PRIMARY KEY (cls_id, partition_id, object_id)
) WITH (fillfactor = ${OBJECTS_FILLFACTOR});
CREATE INDEX IF NOT EXISTS oaas_objects_wake ON oaas_objects (wake_at, cls_id COLLATE "C", partition_id, object_id) WHERE wake_at IS NOT NULL;`;

/**
 * Tables created together and versioned by one key of `oaas_meta`. The
 * object tables are one part; the cluster tables another, created only when
 * cluster mode is used, so databases of applications that never use it (and
 * the releases before it) are left as they were.
 */
export interface SchemaPart {
  /** The `oaas_meta` key holding the part's version. */
  readonly key: string;
  readonly version: string;
  readonly ddl: string;
  /** How messages name the version, e.g. `schema version`. */
  readonly label: string;
  /**
   * Older versions this release migrates, run in the creating transaction
   * (under the lock). `ddl` runs after the migration, so it must be written
   * `IF NOT EXISTS` throughout: it then adds only what the migration left
   * to it (an index, say).
   */
  readonly migrations?: Readonly<Record<string, (client: PoolClient) => Promise<void>>> | undefined;
}

const OBJECT_TABLES: SchemaPart = {
  key: 'schema_version',
  version: SCHEMA_VERSION,
  ddl: TABLES_DDL,
  label: 'schema version',
  migrations: { [LAYOUT_1]: migrateFromLayout1 },
};

/**
 * Creates a part of the schema (the object tables unless told otherwise) if
 * it is missing and checks its version.
 *
 * A current schema is recognised with two reads and no DDL, so a role
 * without CREATE rights can use a database someone else set up. Otherwise
 * creation runs in one transaction under {@link SCHEMA_LOCK}: of two
 * processes opening a new database at once, one creates the tables and the
 * other waits for the lock, then finds them.
 */
export async function ensureSchema(pool: Pool, part: SchemaPart = OBJECT_TABLES): Promise<void> {
  if (checkVersion(await readVersion(pool, part.key), part)) return;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    // Not readVersion(): this connection may still cache "no oaas_meta" from before the lock. Statements
    // that open the table take a relation lock, which brings the catalog up to date with the winner's commit.
    await client.query(META_DDL);
    const found = (await client.query<{ value: string }>(READ_VERSION, [part.key])).rows[0]?.value;
    const migrate = found === undefined ? undefined : part.migrations?.[found];
    if (migrate !== undefined) {
      // In this transaction: a crash or a failure leaves the old layout as it was.
      await migrate(client);
      await client.query(part.ddl);
      await client.query('UPDATE oaas_meta SET value = $2 WHERE key = $1', [part.key, part.version]);
    } else if (!checkVersion(found, part)) {
      await client.query(part.ddl);
      await client.query('INSERT INTO oaas_meta (key, value) VALUES ($1, $2)', [part.key, part.version]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : translateError('rollback', rollbackError);
    });
    throw error;
  } finally {
    // A client whose rollback failed is in an unknown state: destroy it rather than pool it.
    client.release(broken);
  }
}

const READ_VERSION = 'SELECT value FROM oaas_meta WHERE key = $1';

/** PostgreSQL's code for a statement the role may not run (here: ALTER TABLE by a role that does not own the table). */
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * Gives a database created before the objects table had a fillfactor the one
 * a new database gets ({@link OBJECTS_FILLFACTOR}); a table that has a
 * fillfactor, whatever its value, is left as it is, so one set by hand stays.
 * Existing pages take it on as their rows move (`VACUUM FULL oaas_objects`
 * rewrites them at once). Not a schema version: releases before it read and
 * write the table the same. A role that does not own the table cannot set
 * storage options; it uses the table as it is, only with slower updates.
 */
export async function ensureStorageOptions(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ options: string[] | null }>("SELECT reloptions AS options FROM pg_class WHERE oid = to_regclass('oaas_objects')");
  if (rows[0] === undefined || (rows[0].options ?? []).some((option) => option.startsWith('fillfactor='))) return;
  try {
    await pool.query(`ALTER TABLE oaas_objects SET (fillfactor = ${OBJECTS_FILLFACTOR})`);
  } catch (error) {
    if ((error as { code?: unknown }).code !== INSUFFICIENT_PRIVILEGE) throw error;
  }
}

/** The stored version of a part, read without DDL; `undefined` when it is not there yet. */
async function readVersion(pool: Pool, key: string): Promise<string | undefined> {
  const meta = await pool.query<{ present: boolean }>("SELECT to_regclass('oaas_meta') IS NOT NULL AS present");
  if (meta.rows[0]?.present !== true) return undefined;
  const found = await pool.query<{ value: string }>(READ_VERSION, [key]);
  return found.rows[0]?.value;
}

/** True when the part is present and current; throws when it belongs to another release. */
function checkVersion(found: string | undefined, part: SchemaPart): boolean {
  if (found === undefined || part.migrations?.[found] !== undefined) return false;
  if (found === part.version) return true;
  throw new StoreError(
    `postgres open failed: the database has ${part.label} ${found}; this release of oaas-sdk supports ${part.label} ${part.version}`,
    { transient: false },
  );
}

/** How each isolation level of a batch begins its transaction. */
export const BEGIN: Readonly<Record<Isolation, string>> = {
  'read-committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable-read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

const KEY_COLUMNS = '(cls_id, partition_id, object_id)';
/** Keys arrive as three parallel arrays (see {@link columns}) that `unnest` zips back into rows: one statement for any number. */
const KEYS = (first: number): string => `SELECT * FROM unnest($${first}::text[], $${first + 1}::int[], $${first + 2}::text[])`;
const OBJECT_COLUMNS = '(cls_id, partition_id, object_id, version, state, raw, entry_count, wake_at)';
/**
 * A put's wake time in an `UPDATE … FROM unnest(…) AS u`: `u.wake_keep` (the
 * put said nothing of it) leaves the stored one, else `u.wake_at` (a number,
 * or null to clear it) replaces it.
 */
const SET_WAKE = 'wake_at = CASE WHEN u.wake_keep THEN o.wake_at ELSE u.wake_at END';

/** Every statement the store runs; each takes whole arrays, never one statement per object. */
export const SQL = {
  read: `SELECT cls_id, partition_id, object_id, version, state, raw FROM oaas_objects WHERE ${KEY_COLUMNS} IN (${KEYS(1)})`,
  versions: `SELECT cls_id, partition_id, object_id, version FROM oaas_objects WHERE ${KEY_COLUMNS} IN (${KEYS(1)})`,
  // ORDER BY makes every batch lock rows in one order, so two batches over the same objects queue instead of deadlocking.
  lock: `SELECT cls_id, partition_id, object_id, version FROM oaas_objects WHERE ${KEY_COLUMNS} IN (${KEYS(1)})
    ORDER BY cls_id, partition_id, object_id FOR UPDATE`,
  /** {@link SQL.lock} with the stored state, for puts that carry only a delta. */
  lockWithState: `SELECT cls_id, partition_id, object_id, version, state, raw FROM oaas_objects WHERE ${KEY_COLUMNS} IN (${KEYS(1)})
    ORDER BY cls_id, partition_id, object_id FOR UPDATE`,
  // Rows read as present are locked, so `o.version = excluded.version - 1` holds for them. A row another transaction
  // created since the read is only updated when its op expected no version ($9-$11); otherwise it is not returned.
  // The puts that say nothing of the wake time ($12-$14) keep the stored one (a new row gets $8's null).
  putObjects: `INSERT INTO oaas_objects AS o ${OBJECT_COLUMNS}
    SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::int8[], $5::text[], $6::text[], $7::int[], $8::int8[])
    ON CONFLICT ${KEY_COLUMNS} DO UPDATE SET version = o.version + 1, state = excluded.state, raw = excluded.raw, entry_count = excluded.entry_count,
      wake_at = CASE WHEN (o.cls_id, o.partition_id, o.object_id) IN (${KEYS(12)}) THEN o.wake_at ELSE excluded.wake_at END
    WHERE o.version = excluded.version - 1 OR (o.cls_id, o.partition_id, o.object_id) IN (${KEYS(9)})
    RETURNING cls_id, partition_id, object_id, version`,
  deleteObjects: `DELETE FROM oaas_objects WHERE ${KEY_COLUMNS} IN (${KEYS(1)})`,
  // The SDK's own batches (whole states, expected versions): the version check is part of each write, so a batch
  // is at most one statement per kind of op. Nothing comes back but the count of rows written (`rowCount`): when
  // it falls short, another writer got there first, and the batch is rolled back as a conflict; otherwise every
  // object is at the version it expected plus one.
  updateStates: `UPDATE oaas_objects o SET version = u.expected + 1, state = u.state, raw = NULL, entry_count = u.entry_count, ${SET_WAKE}
    FROM unnest($1::text[], $2::int[], $3::text[], $4::int8[], $5::text[], $6::int[], $7::int8[], $8::bool[])
      AS u(cls_id, partition_id, object_id, expected, state, entry_count, wake_at, wake_keep)
    WHERE o.cls_id = u.cls_id AND o.partition_id = u.partition_id AND o.object_id = u.object_id AND o.version = u.expected`,
  /** {@link SQL.updateStates} for a batch in one class and partition ($1, $2): one key column to join on, fewer arrays to send. */
  updateStatesIn: `UPDATE oaas_objects o SET version = u.expected + 1, state = u.state, raw = NULL, entry_count = u.entry_count, ${SET_WAKE}
    FROM unnest($3::text[], $4::int8[], $5::text[], $6::int[], $7::int8[], $8::bool[]) AS u(object_id, expected, state, entry_count, wake_at, wake_keep)
    WHERE o.cls_id = $1 AND o.partition_id = $2 AND o.object_id = u.object_id AND o.version = u.expected`,
  // The same two for a batch whose puts all leave the wake time as it is (the SDK's usual commit): no wake columns
  // to send, nor a CASE per row, which takes about a quarter of the statement's time for 10k rows.
  updateStatesKeepingWakes: `UPDATE oaas_objects o SET version = u.expected + 1, state = u.state, raw = NULL, entry_count = u.entry_count
    FROM unnest($1::text[], $2::int[], $3::text[], $4::int8[], $5::text[], $6::int[]) AS u(cls_id, partition_id, object_id, expected, state, entry_count)
    WHERE o.cls_id = u.cls_id AND o.partition_id = u.partition_id AND o.object_id = u.object_id AND o.version = u.expected`,
  updateStatesInKeepingWakes: `UPDATE oaas_objects o SET version = u.expected + 1, state = u.state, raw = NULL, entry_count = u.entry_count
    FROM unnest($3::text[], $4::int8[], $5::text[], $6::int[]) AS u(object_id, expected, state, entry_count)
    WHERE o.cls_id = $1 AND o.partition_id = $2 AND o.object_id = u.object_id AND o.version = u.expected`,
  insertStates: `INSERT INTO oaas_objects ${OBJECT_COLUMNS}
    SELECT cls_id, partition_id, object_id, 1, state, NULL, entry_count, wake_at FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int8[])
      AS u(cls_id, partition_id, object_id, state, entry_count, wake_at)
    ON CONFLICT ${KEY_COLUMNS} DO NOTHING`,
  deleteAtVersions: `DELETE FROM oaas_objects o USING unnest($1::text[], $2::int[], $3::text[], $4::int8[]) AS u(cls_id, partition_id, object_id, expected)
    WHERE o.cls_id = u.cls_id AND o.partition_id = u.partition_id AND o.object_id = u.object_id AND o.version = u.expected`,
  /** `$1` the last wake time due, `$2` the limit: the condition and the order are `oaas_objects_wake`'s, so the plan is a scan of it. */
  due: `SELECT cls_id, partition_id, object_id, wake_at, version FROM oaas_objects
    WHERE wake_at IS NOT NULL AND wake_at <= $1 ORDER BY wake_at, cls_id COLLATE "C", partition_id, object_id LIMIT $2`,
  /** `$3` is the lower bound (exclusive after a cursor), `$5` the prefix's upper bound, `$4` the limit. */
  list: (after: boolean, bounded: boolean): string => `SELECT object_id, version, entry_count
    FROM oaas_objects WHERE cls_id = $1 AND partition_id = $2 AND object_id ${after ? '>' : '>='} $3
    ${bounded ? 'AND object_id < $5' : ''} ORDER BY object_id COLLATE "C" LIMIT $4`,
} as const;

/** A row naming one object. `bigint` columns arrive as strings unless the application changed pg's type parsers. */
export interface KeyRow { cls_id: string; partition_id: number; object_id: string; version: string | number }
/** A row of {@link SQL.read} and {@link SQL.lockWithState}: one per object. */
export interface ReadRow extends KeyRow { state: string; raw: string | null }
/** A row of {@link SQL.due}. */
export interface DueRow extends KeyRow { wake_at: string | number }
/** A row of {@link SQL.list}. */
export interface ListRow { object_id: string; version: string | number; entry_count: string | number }

/** The {@link keyString} of the object a row names. */
export function keyOf(row: KeyRow): string {
  return keyString({ clsId: row.cls_id, partitionId: row.partition_id, objectId: row.object_id });
}

/** Keys as the three parallel arrays {@link KEYS} takes. */
export function columns(keys: readonly ObjectKey[]): [string[], number[], string[]] {
  return [keys.map((k) => k.clsId), keys.map((k) => k.partitionId), keys.map((k) => k.objectId)];
}


const NUL = '\u0000';
const NO_NUL = 'must not contain U+0000, which PostgreSQL text cannot hold';

/**
 * `checkKey`, plus what these columns cannot hold: U+0000 in text, and a
 * partition id above the `integer` range. Refused up front with the same
 * `InvalidArgumentError` as any other bad key, rather than failing on the server.
 */
export function checkStorableKey(key: unknown, argument: string, path: string): asserts key is ObjectKey {
  checkKey(key, argument, path);
  if (key.clsId.includes(NUL)) throw new InvalidArgumentError(argument, `${path}.clsId ${NO_NUL}`);
  if (key.objectId.includes(NUL)) throw new InvalidArgumentError(argument, `${path}.objectId ${NO_NUL}`);
  if (key.partitionId > MAX_PARTITION_ID) throw new InvalidArgumentError(argument, `${path}.partitionId must be at most ${MAX_PARTITION_ID} in PostgreSQL, got ${key.partitionId}`);
}

/** Entry keys of one op (`path`), for the U+0000 that text cannot hold. */
export function checkStorableEntryKeys(keys: readonly string[], path: string): void {
  if (keys.some((k) => k.includes(NUL))) throw new InvalidArgumentError('ops', `${path} has an entry key that ${NO_NUL}`);
}

/** The arguments of `list`, after the shared checks; `after` is the decoded cursor. */
export function checkStorableList(clsId: string, partitionId: number, prefix: string, after: string | undefined): void {
  if (clsId.includes(NUL)) throw new InvalidArgumentError('clsId', NO_NUL);
  if (partitionId > MAX_PARTITION_ID) throw new InvalidArgumentError('partitionId', `must be at most ${MAX_PARTITION_ID} in PostgreSQL, got ${partitionId}`);
  if (prefix.includes(NUL)) throw new InvalidArgumentError('prefix', NO_NUL);
  // No stored id holds U+0000, so no cursor this store returned can.
  if (after?.includes(NUL) === true) throw new InvalidArgumentError('cursor', 'is not a cursor this store returned');
}
