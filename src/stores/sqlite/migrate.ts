/**
 * Layout 1 to layout 2, in place. Layout 1 (releases before schema version
 * 2) kept a version row per object in `oaas_objects` and one row per entry
 * in `oaas_entries`; layout 2 keeps the entries in the object's row as a
 * state document. The caller runs this inside the IMMEDIATE transaction
 * that opens the file, so a crash at any point leaves layout 1 untouched
 * and the next open migrates again from the start.
 */
import type Database from 'better-sqlite3';
import { encodeDocument } from '../state-document.js';
import { objectsDdl, SCHEMA_VERSION, WAKE_INDEX_DDL } from './layout.js';

/** Objects copied per round: bounds memory on large files. */
const CHUNK = 1000;

type Key = [clsId: string, partitionId: number, objectId: string];
interface OldObject { cls_id: string; partition_id: number; object_id: string; version: number }
interface OldEntry { entry_key: string; value: Buffer }

/** Rewrites every object of layout 1 into a new table, swaps the tables and records schema version 2. Layout 1 had no wake times: `wake_at` stays null. */
export function migrateFromLayout1(db: Database.Database): void {
  db.exec(objectsDdl('oaas_objects_v2'));
  const first = db.prepare<[number], OldObject>('SELECT cls_id, partition_id, object_id, version FROM oaas_objects ORDER BY cls_id, partition_id, object_id LIMIT ?');
  const after = db.prepare<[...Key, number], OldObject>(
    `SELECT cls_id, partition_id, object_id, version FROM oaas_objects
     WHERE (cls_id, partition_id, object_id) > (?, ?, ?) ORDER BY cls_id, partition_id, object_id LIMIT ?`,
  );
  const entries = db.prepare<Key, OldEntry>('SELECT entry_key, value FROM oaas_entries WHERE cls_id = ? AND partition_id = ? AND object_id = ?');
  const insert = db.prepare<[...Key, number, string, string | null, number]>(
    'INSERT INTO oaas_objects_v2 (cls_id, partition_id, object_id, version, state, raw, entry_count) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  let rows = first.all(CHUNK);
  while (rows.length > 0) {
    for (const row of rows) {
      const found = new Map<string, Uint8Array>();
      for (const entry of entries.all(row.cls_id, row.partition_id, row.object_id)) found.set(entry.entry_key, entry.value);
      const document = encodeDocument(found);
      insert.run(row.cls_id, row.partition_id, row.object_id, row.version, document.state, document.raw, document.entryCount);
    }
    const last = rows[rows.length - 1]!;
    rows = after.all(last.cls_id, last.partition_id, last.object_id, CHUNK);
  }
  db.exec('DROP TABLE oaas_entries; DROP TABLE oaas_objects; ALTER TABLE oaas_objects_v2 RENAME TO oaas_objects');
  db.exec(WAKE_INDEX_DDL);
  db.prepare("UPDATE oaas_meta SET value = ? WHERE key = 'schema_version'").run(SCHEMA_VERSION);
}
