/**
 * Layout 1 to layout 2 on PostgreSQL, in place. Layout 1 (releases before
 * schema version 2) kept a version row per object in `oaas_objects` and one
 * row per entry in `oaas_entries`; layout 2 keeps the entries in the
 * object's row as a state document. `ensureSchema` runs this in the
 * transaction that holds the schema lock, so other processes wait for it, and
 * a crash or an error leaves layout 1 as it was (PostgreSQL's DDL is
 * transactional).
 */
import type { PoolClient } from 'pg';
import { encodeDocument } from '../state-document.js';

/** Objects rewritten per round: bounds memory and statement size on large databases. */
const CHUNK = 2000;

interface KeyRow { cls_id: string; partition_id: number; object_id: string }
interface EntryRow extends KeyRow { entry_key: string; value: Buffer }

const FIRST = 'SELECT cls_id, partition_id, object_id FROM oaas_objects ORDER BY cls_id, partition_id, object_id LIMIT $1';
const AFTER = `SELECT cls_id, partition_id, object_id FROM oaas_objects
  WHERE (cls_id, partition_id, object_id) > ($2, $3, $4) ORDER BY cls_id, partition_id, object_id LIMIT $1`;
const ENTRIES = `SELECT cls_id, partition_id, object_id, entry_key, value FROM oaas_entries
  WHERE (cls_id, partition_id, object_id) IN (SELECT * FROM unnest($1::text[], $2::int[], $3::text[]))`;
const WRITE = `UPDATE oaas_objects o SET state = u.state, raw = u.raw, entry_count = u.entry_count
  FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[]) AS u(cls_id, partition_id, object_id, state, raw, entry_count)
  WHERE o.cls_id = u.cls_id AND o.partition_id = u.partition_id AND o.object_id = u.object_id`;

const idOf = (row: KeyRow): string => `${row.cls_id}\u0000${row.partition_id}\u0000${row.object_id}`;

export async function migrateFromLayout1(client: PoolClient): Promise<void> {
  // Layout 1 had no wake times: wake_at stays null (its index is created by the layout's DDL, which runs next).
  await client.query('ALTER TABLE oaas_objects ADD COLUMN state text, ADD COLUMN raw text, ADD COLUMN entry_count integer, ADD COLUMN wake_at bigint');
  let rows = (await client.query<KeyRow>(FIRST, [CHUNK])).rows;
  while (rows.length > 0) {
    const keys = [rows.map((r) => r.cls_id), rows.map((r) => r.partition_id), rows.map((r) => r.object_id)];
    const entries = new Map<string, Map<string, Uint8Array>>();
    for (const entry of (await client.query<EntryRow>(ENTRIES, keys)).rows) {
      const id = idOf(entry);
      let found = entries.get(id);
      if (found === undefined) entries.set(id, (found = new Map<string, Uint8Array>()));
      found.set(entry.entry_key, entry.value);
    }
    const documents = rows.map((row) => encodeDocument(entries.get(idOf(row)) ?? new Map<string, Uint8Array>()));
    await client.query(WRITE, [...keys, documents.map((d) => d.state), documents.map((d) => d.raw), documents.map((d) => d.entryCount)]);
    const last = rows[rows.length - 1]!;
    rows = (await client.query<KeyRow>(AFTER, [CHUNK, last.cls_id, last.partition_id, last.object_id])).rows;
  }
  await client.query('ALTER TABLE oaas_objects ALTER COLUMN state SET NOT NULL, ALTER COLUMN entry_count SET NOT NULL');
  await client.query('DROP TABLE oaas_entries');
}
