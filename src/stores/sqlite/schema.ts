/**
 * The SQLite schema and connection settings.
 *
 * Objects and entries live in two WITHOUT ROWID tables clustered on their
 * key, so one object's entries sit together on disk and `list` walks the
 * primary key in order. `oaas_meta` records the schema version, so a newer
 * database is refused instead of being misread.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';

/** The schema version this release reads and writes. */
export const SCHEMA_VERSION = '1';

const META_DDL = `
CREATE TABLE IF NOT EXISTS oaas_meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID`;

const TABLES_DDL = `
CREATE TABLE IF NOT EXISTS oaas_objects (
  cls_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (cls_id, partition_id, object_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS oaas_entries (
  cls_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  entry_key TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (cls_id, partition_id, object_id, entry_key),
  FOREIGN KEY (cls_id, partition_id, object_id)
    REFERENCES oaas_objects (cls_id, partition_id, object_id) ON DELETE CASCADE
) WITHOUT ROWID;`;

/** Connection settings that {@link configure} applies. */
export interface ConnectionSettings {
  readonly synchronous: 'full' | 'normal';
  readonly busyTimeoutMs: number;
}

/**
 * Applies per-connection pragmas. The busy timeout comes first so that the
 * journal-mode switch and schema creation wait for a concurrent opener
 * instead of failing at once.
 */
export function configure(db: Database.Database, settings: ConnectionSettings): void {
  db.pragma(`busy_timeout = ${String(settings.busyTimeoutMs)}`);
  if (!db.memory) {
    // WAL lets readers run beside the one writer and survives a killed process;
    // the mode is stored in the file, so only the first opener switches it.
    const mode = db.pragma('journal_mode', { simple: true });
    if (mode !== 'wal') {
      const after = db.pragma('journal_mode = WAL', { simple: true });
      if (after !== 'wal') {
        throw new StoreError(`sqlite open failed: could not switch ${db.name} to WAL journal mode (still ${String(after)})`, { transient: false });
      }
    }
  }
  db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('foreign_keys = ON');
}

/**
 * Creates the schema if it is missing and checks its version. Creation runs
 * in one IMMEDIATE transaction, so of two processes opening a new file at
 * once, one creates the tables and the other waits, then finds them.
 */
export function ensureSchema(db: Database.Database): void {
  if (checkVersion(db, readVersion(db))) return;
  db.transaction(() => {
    db.exec(META_DDL);
    if (checkVersion(db, readVersion(db))) return;
    db.exec(TABLES_DDL);
    db.prepare("INSERT INTO oaas_meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
  }).immediate();
}

function readVersion(db: Database.Database): string | undefined {
  const hasMeta = db.prepare<[], number>("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oaas_meta'").pluck().get();
  if (hasMeta === undefined) return undefined;
  return db.prepare<[], string>("SELECT CAST(value AS TEXT) FROM oaas_meta WHERE key = 'schema_version'").pluck().get();
}

/** True when the schema is present and current; throws when it belongs to another release. */
function checkVersion(db: Database.Database, found: string | undefined): boolean {
  if (found === undefined) return false;
  if (found === SCHEMA_VERSION) return true;
  throw new StoreError(
    `sqlite open failed: ${db.name} has schema version ${found}; this release of oaas-sdk supports schema version ${SCHEMA_VERSION}`,
    { transient: false },
  );
}
