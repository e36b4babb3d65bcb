/** The versions and the object table of the SQLite layouts (see `schema.ts`). */

/** The schema version this release reads and writes. */
export const SCHEMA_VERSION = '2';
/** The layout the previous releases wrote; migrated in place on open. */
export const LAYOUT_1 = '1';

/**
 * The object table of layout 2, under a given name (the migration builds it
 * beside the old one). Rows have an id that is never reused (AUTOINCREMENT),
 * so a writer that remembers an object's id can update its row by id (as
 * fast as any ORM's update of a row) and learn from a miss that the object
 * was deleted or re-created since. `wake_at` is the object's wake time (ms
 * since the epoch), null when it has none.
 */
export function objectsDdl(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  cls_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  raw TEXT,
  entry_count INTEGER NOT NULL,
  wake_at INTEGER,
  UNIQUE (cls_id, partition_id, object_id)
)`;
}

/**
 * The index `due` reads: only rows with a wake time (most objects have
 * none), in the order `due` returns them (wake time, then key), so a query
 * with a limit stops after that many rows instead of sorting every due one.
 */
export const WAKE_INDEX_DDL = `
CREATE INDEX IF NOT EXISTS oaas_objects_wake ON oaas_objects (wake_at, cls_id, partition_id, object_id) WHERE wake_at IS NOT NULL`;

