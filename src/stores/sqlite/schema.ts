/**
 * The SQLite schema and connection settings.
 *
 * Layout 2: one row per object (see `layout.ts`), holding the version, the
 * entries as one state document (see `../state-document.ts`) and the wake
 * time, so writing an object is one statement and `list` walks the key's
 * unique index in order. `oaas_meta` records the schema version: a
 * file of layout 1 is migrated on open (`migrate.ts`), a newer one is
 * refused instead of being misread.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '../../errors.js';
import { LAYOUT_1, objectsDdl, SCHEMA_VERSION, WAKE_INDEX_DDL } from './layout.js';
import { migrateFromLayout1 } from './migrate.js';

export { SCHEMA_VERSION } from './layout.js';

const META_DDL = `
CREATE TABLE IF NOT EXISTS oaas_meta (
  key TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID`;

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
  // One IMMEDIATE transaction for creation and migration alike: a crash in
  // the middle leaves the file as it was, and a second opener waits for the
  // first instead of migrating twice.
  db.transaction(() => {
    db.exec(META_DDL);
    const found = readVersion(db);
    if (found === LAYOUT_1) {
      migrateFromLayout1(db);
    } else if (!checkVersion(db, found)) {
      db.exec(objectsDdl('oaas_objects'));
      db.exec(WAKE_INDEX_DDL);
      db.prepare("INSERT INTO oaas_meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
    }
  }).immediate();
}

function readVersion(db: Database.Database): string | undefined {
  const hasMeta = db.prepare<[], number>("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'oaas_meta'").pluck().get();
  if (hasMeta === undefined) return undefined;
  return db.prepare<[], string>("SELECT CAST(value AS TEXT) FROM oaas_meta WHERE key = 'schema_version'").pluck().get();
}

/** True when the schema is present and current; throws when it belongs to another release. */
function checkVersion(db: Database.Database, found: string | undefined): boolean {
  if (found === undefined || found === LAYOUT_1) return false;
  if (found === SCHEMA_VERSION) return true;
  throw new StoreError(
    `sqlite open failed: ${db.name} has schema version ${found}; this release of oaas-sdk supports schema version ${SCHEMA_VERSION}`,
    { transient: false },
  );
}
