/** The versions and the object table of the SQLite layouts (see `schema.ts`). */

/** The schema version this release reads and writes. */
export const SCHEMA_VERSION = '2';
/** The layout the previous releases wrote; migrated in place on open. */
export const LAYOUT_1 = '1';

/** The object table of layout 2, under a given name (the migration builds it beside the old one). */
export function objectsDdl(table: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  cls_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  object_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  raw TEXT,
  entry_count INTEGER NOT NULL,
  PRIMARY KEY (cls_id, partition_id, object_id)
) WITHOUT ROWID`;
}

