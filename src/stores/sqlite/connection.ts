/**
 * An open SQLite database: the SQL of layout 2 (one row per object, see
 * ./layout.ts) prepared once, the transaction of a read of many objects,
 * and the writes of a batch (one statement per object, or set-based for a
 * large trusted batch of updates by row id).
 */
import Database from 'better-sqlite3';
import { ConflictError, type VersionConflict } from '../../errors.js';
import type { DueObject, ListedObject, ObjectKey, PutOp, StoredObject, TrustedPut, WriteOp } from '../store.js';
import { applyDelta, decodeDocument, encodeDocument } from '../state-document.js';
import { configure, ensureSchema, type ConnectionSettings } from './schema.js';

interface ObjectRow {
  readonly id: number;
  readonly version: number;
  readonly state: string;
  readonly raw: string | null;
  readonly wake_at: number | null;
}

interface DueRow {
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;
  readonly wakeAt: number;
  readonly version: number;
}

type KeyParams = [clsId: string, partitionId: number, objectId: string];
type RowParams = [...KeyParams, version: number, state: string, raw: string | null, entryCount: number, wakeAt: number | null];
/** A put's wake time as an update binds it: keep (1: leave the stored one, the put said nothing of it), else the new value. */
type WakeParams = [keep: 0 | 1, wakeAt: number | null];
type ListParams = [clsId: string, partitionId: number, lower: string, limit: number];
type BoundedListParams = [clsId: string, partitionId: number, lower: string, upper: string, limit: number];

function listSql(lower: '>' | '>=', bounded: boolean): string {
  return `SELECT object_id AS objectId, version, entry_count AS entryCount FROM oaas_objects
    WHERE cls_id = ? AND partition_id = ? AND object_id ${lower} ?${bounded ? ' AND object_id < ?' : ''}
    ORDER BY object_id LIMIT ?`;
}

const ROW_COLUMNS = 'cls_id, partition_id, object_id, version, state, raw, entry_count, wake_at';
/** Binds {@link WakeParams}. */
const SET_WAKE = 'wake_at = CASE WHEN ? THEN wake_at ELSE ? END';

/** The objects due by `until`, through `oaas_objects_wake`; exported for the test that checks the plan. */
export const DUE_SQL = `SELECT cls_id AS clsId, partition_id AS partitionId, object_id AS objectId, wake_at AS wakeAt, version FROM oaas_objects
  WHERE wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at, cls_id, partition_id, object_id LIMIT ?`;

/** Every statement the store runs, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  const where = 'cls_id = ? AND partition_id = ? AND object_id = ?';
  return {
    version: db.prepare<KeyParams, number>(`SELECT version FROM oaas_objects WHERE ${where}`).pluck(),
    object: db.prepare<KeyParams, ObjectRow>(`SELECT id, version, state, raw, wake_at FROM oaas_objects WHERE ${where}`),
    // The SDK's writes: the version check is part of the statement, so an object costs one statement.
    updateById: db.prepare<[version: number, state: string, entryCount: number, id: number, expected: number]>(
      'UPDATE oaas_objects SET version = ?, state = ?, raw = NULL, entry_count = ? WHERE id = ? AND version = ?',
    ),
    // The same with a new wake time (a put that names one): most puts leave it, and the statement without it is cheaper.
    updateByIdWaking: db.prepare<[version: number, state: string, entryCount: number, wakeAt: number | null, id: number, expected: number]>(
      'UPDATE oaas_objects SET version = ?, state = ?, raw = NULL, entry_count = ?, wake_at = ? WHERE id = ? AND version = ?',
    ),
    update: db.prepare<[version: number, state: string, entryCount: number, ...WakeParams, ...KeyParams, expected: number], number>(
      `UPDATE oaas_objects SET version = ?, state = ?, raw = NULL, entry_count = ?, ${SET_WAKE} WHERE ${where} AND version = ? RETURNING id`,
    ).pluck(),
    insert: db.prepare<RowParams, number>(
      `INSERT INTO oaas_objects (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (cls_id, partition_id, object_id) DO NOTHING RETURNING id`,
    ).pluck(),
    // Other writes, after the version was checked (and the stored wake time read) under the write lock.
    write: db.prepare<RowParams>(
      `INSERT INTO oaas_objects (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (cls_id, partition_id, object_id) DO UPDATE
       SET version = excluded.version, state = excluded.state, raw = excluded.raw, entry_count = excluded.entry_count, wake_at = excluded.wake_at`,
    ),
    // The partial index on wake_at holds these rows in this order: the scan stops after `limit` rows.
    due: db.prepare<[until: number, limit: number], DueRow>(DUE_SQL),
    deleteAtVersion: db.prepare<[...KeyParams, number]>(`DELETE FROM oaas_objects WHERE ${where} AND version = ?`),
    deleteObject: db.prepare<KeyParams>(`DELETE FROM oaas_objects WHERE ${where}`),
    listAfter: db.prepare<ListParams, ListedObject>(listSql('>', false)),
    listFrom: db.prepare<ListParams, ListedObject>(listSql('>=', false)),
    listAfterBounded: db.prepare<BoundedListParams, ListedObject>(listSql('>', true)),
    listFromBounded: db.prepare<BoundedListParams, ListedObject>(listSql('>=', true)),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * Rows per set-based update: one `UPDATE ... FROM (VALUES ...)` writes this
 * many objects by row id with their version checks. Measured on 10,000
 * rows (docs/benchmarks.md, scenario 3): 7.1 ms in chunks of 100 against
 * 8.4 ms one statement per row; a chunk of a few rows costs far more than
 * its rows alone, so only batches of at least `CHUNKED_FROM` are chunked,
 * and the rows past the last whole chunk go one by one.
 */
const CHUNK_ROWS = 100;
const CHUNKED_FROM = 2 * CHUNK_ROWS;

function chunkSql(rows: number): string {
  const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?)').join(', ');
  return `UPDATE oaas_objects SET version = v.column3, state = v.column4, raw = NULL, entry_count = v.column5
    FROM (VALUES ${values}) AS v WHERE oaas_objects.id = v.column1 AND oaas_objects.version = v.column2`;
}

/** A chunk updated fewer rows than it named: some object's version or row id did not hold. Never leaves the store. */
class ChunkMissed extends Error {}

/** An open database with its statements and the transactions built on them. */
export class Connection {
  private readonly statements: Statements;
  /** A deferred transaction gives every key of one getMany the same snapshot. */
  readonly readMany: (keys: readonly ObjectKey[]) => (StoredObject | undefined)[];
  private readonly apply: Database.Transaction<(ops: readonly WriteOp[], trusted: boolean) => number[]>;
  /** A large batch of updates by row id, set-based (see {@link CHUNK_ROWS}); throws `ChunkMissed` (rolling back) when any check fails. */
  private readonly applyChunked: Database.Transaction<(puts: readonly TrustedPut[]) => number[]>;

  /** Opens `path` with `settings` and its schema made or migrated; a failed open closes what it opened. */
  static open(path: string, settings: ConnectionSettings): Connection {
    const db = new Database(path);
    try {
      configure(db, settings);
      ensureSchema(db);
      return new Connection(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  // Private, and so is the database: the package's type declarations then name nothing of better-sqlite3.
  private constructor(private readonly db: Database.Database) {
    const statements = prepareStatements(db);
    this.statements = statements;
    this.readMany = db.transaction((keys: readonly ObjectKey[]) => keys.map((key) => read(statements, key)));
    this.apply = db.transaction((ops: readonly WriteOp[], trusted: boolean) => applyBatch(statements, ops, trusted));
    const chunk = db.prepare<unknown[]>(chunkSql(CHUNK_ROWS));
    this.applyChunked = db.transaction((puts: readonly TrustedPut[]) => applyChunks(statements, chunk, puts));
  }

  close(): void {
    this.db.close();
  }

  read(key: ObjectKey): StoredObject | undefined {
    return read(this.statements, key);
  }

  /**
   * One page (`limit` rows, plus one to tell whether more follow) of a class
   * and partition from `lower` (`inclusive` or not), below `upper` if given.
   */
  list(clsId: string, partitionId: number, lower: string, inclusive: boolean, upper: string | undefined, limit: number): ListedObject[] {
    const s = this.statements;
    return upper === undefined
      ? (inclusive ? s.listFrom : s.listAfter).all(clsId, partitionId, lower, limit)
      : (inclusive ? s.listFromBounded : s.listAfterBounded).all(clsId, partitionId, lower, upper, limit);
  }

  /** Through the partial index on the wake time, in due order. */
  due(until: number, limit: number): DueObject[] {
    return this.statements.due.all(until, limit).map((row) => ({
      key: { clsId: row.clsId, partitionId: row.partitionId, objectId: row.objectId },
      wakeAt: row.wakeAt,
      version: row.version,
    }));
  }

  /**
   * Writes a trusted batch: set-based when it is large and every put is an
   * update by row id; else, or when a chunk's checks fail (a conflict, a row
   * re-created since), one statement per object, which finds out exactly
   * what failed.
   */
  write(ops: readonly WriteOp[], trusted: boolean): number[] {
    if (trusted && ops.length >= CHUNKED_FROM && ops.every(isUpdateById)) {
      try {
        return this.applyChunked.immediate(ops);
      } catch (error) {
        if (!(error instanceof ChunkMissed)) throw error;
      }
    }
    return this.apply.immediate(ops, trusted);
  }
}

/** A put the chunked update can write: the whole state of a stored object with a row id, its wake time left alone. */
function isUpdateById(op: WriteOp): op is TrustedPut {
  return (
    op.kind === 'put' &&
    op.state !== undefined &&
    op.entryCount !== undefined &&
    op.expectedVersion !== undefined &&
    op.expectedVersion > 0 &&
    op.wakeAt === undefined &&
    (op as TrustedPut).hint !== undefined
  );
}

/** Runs inside the IMMEDIATE transaction: whole chunks set-based, the rest one by one; throws `ChunkMissed` at the first failed check. */
function applyChunks(s: Statements, chunk: Database.Statement<unknown[]>, puts: readonly TrustedPut[]): number[] {
  const whole = puts.length - (puts.length % CHUNK_ROWS);
  const params = new Array<unknown>(CHUNK_ROWS * 5);
  for (let start = 0; start < whole; start += CHUNK_ROWS) {
    for (let i = 0; i < CHUNK_ROWS; i++) {
      const put = puts[start + i]!;
      const expected = put.expectedVersion!;
      const at = i * 5;
      params[at] = put.hint;
      params[at + 1] = expected;
      params[at + 2] = expected + 1;
      params[at + 3] = put.state;
      params[at + 4] = put.entryCount;
    }
    if (chunk.run(params).changes !== CHUNK_ROWS) throw new ChunkMissed();
  }
  for (let i = whole; i < puts.length; i++) {
    const put = puts[i]!;
    const expected = put.expectedVersion!;
    if (s.updateById.run(expected + 1, put.state!, put.entryCount!, put.hint!, expected).changes !== 1) throw new ChunkMissed();
  }
  return puts.map((put) => put.expectedVersion! + 1);
}

function read(s: Statements, key: ObjectKey): StoredObject | undefined {
  const row = s.object.get(key.clsId, key.partitionId, key.objectId);
  if (row === undefined) return undefined;
  return { key: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, version: row.version, entries: decodeDocument(row.state, row.raw), hint: row.id };
}

/**
 * Runs inside the IMMEDIATE transaction. At the first version mismatch the
 * batch stops writing, checks the remaining objects, and throws one
 * `ConflictError` listing all of them; the throw rolls the transaction back.
 */
function applyBatch(s: Statements, ops: readonly WriteOp[], trusted: boolean): number[] {
  const versions: number[] = [];
  let conflicts: VersionConflict[] | undefined;
  for (const op of ops) {
    const { clsId, partitionId, objectId } = op.key;
    const expected = op.expectedVersion;
    if (conflicts !== undefined) {
      // Only checking now: the transaction will be rolled back.
      const actual = s.version.get(clsId, partitionId, objectId) ?? 0;
      if (expected !== undefined && expected !== actual) conflicts.push({ ref: { clsId, partitionId, objectId }, expected, actual });
      continue;
    }
    const version = op.kind === 'delete' ? deleteObject(s, op.key, expected) : writeObject(s, op, expected, trusted);
    if (version === undefined) {
      const actual = s.version.get(clsId, partitionId, objectId) ?? 0;
      conflicts = [{ ref: { clsId, partitionId, objectId }, expected: expected ?? actual, actual }];
      continue;
    }
    versions.push(version);
  }
  if (conflicts !== undefined) throw new ConflictError(conflicts);
  return versions;
}

/** Deletes one object with its version check; `undefined` when the stored version is not the expected one. */
function deleteObject(s: Statements, key: ObjectKey, expected: number | undefined): number | undefined {
  const { clsId, partitionId, objectId } = key;
  if (expected === undefined) {
    s.deleteObject.run(clsId, partitionId, objectId);
    return 0;
  }
  if (expected === 0) return s.version.get(clsId, partitionId, objectId) === undefined ? 0 : undefined;
  return s.deleteAtVersion.run(clsId, partitionId, objectId, expected).changes === 1 ? 0 : undefined;
}

/**
 * Writes one put with its version check; `undefined` when the stored version
 * is not the expected one. A put that carries its whole state (the SDK's)
 * is one statement; any other is merged into the stored entries first.
 */
function writeObject(s: Statements, op: PutOp, expected: number | undefined, trusted: boolean): number | undefined {
  const { clsId, partitionId, objectId } = op.key;
  if (trusted && op.state !== undefined && op.entryCount !== undefined && expected !== undefined) {
    const put = op as TrustedPut;
    const wakeAt = op.wakeAt;
    const hint = put.hint;
    if (expected > 0 && hint !== undefined) {
      const updated =
        wakeAt === undefined
          ? s.updateById.run(expected + 1, op.state, op.entryCount, hint, expected)
          : s.updateByIdWaking.run(expected + 1, op.state, op.entryCount, wakeAt, hint, expected);
      if (updated.changes === 1) return expected + 1;
    }
    // No hint, or it no longer holds (the row was deleted or re-created since): find the row by its key.
    const id =
      expected === 0
        ? s.insert.get(clsId, partitionId, objectId, 1, op.state, null, op.entryCount, wakeAt ?? null)
        : s.update.get(expected + 1, op.state, op.entryCount, wakeAt === undefined ? 1 : 0, wakeAt ?? null, clsId, partitionId, objectId, expected);
    if (id === undefined) return undefined;
    put.hint = id;
    return expected + 1;
  }
  const row = s.object.get(clsId, partitionId, objectId);
  const actual = row?.version ?? 0;
  if (expected !== undefined && expected !== actual) return undefined;
  const entries = applyDelta(row === undefined ? new Map<string, Uint8Array>() : decodeDocument(row.state, row.raw), op.set, op.remove);
  const document = encodeDocument(entries);
  // A put that says nothing of the wake time leaves the stored one (none for a new object).
  const wakeAt = op.wakeAt === undefined ? (row?.wake_at ?? null) : op.wakeAt;
  s.write.run(clsId, partitionId, objectId, actual + 1, document.state, document.raw, document.entryCount, wakeAt);
  return actual + 1;
}
