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
 * was deleted or re-created since.
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
  UNIQUE (cls_id, partition_id, object_id)
)`;
}

