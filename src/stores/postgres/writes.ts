/**
 * How the PostgreSQL store writes a batch: one transaction per `apply`, with
 * the SDK's own batches written by version-checked set-based statements and
 * any other batch locked, checked, merged and upserted. The change events of
 * a batch are notified in its transaction (`notifyAndCommit`).
 */
import type { Pool, PoolClient } from 'pg';
import { ConflictError, type VersionConflict } from '../../errors.js';
import { applyDelta, decodeDocument, encodeDocument, type EncodedDocument } from '../state-document.js';
import { keyString, type CommitFence, type Isolation, type WriteOp } from '../store.js';
import { isSerializationFailure, translateError } from './errors.js';
import { boolArray, int4Array, int8Array, textArray } from './binary-arrays.js';
import { commitWithEvents, notifyAndCommit, notifyStatements } from './events.js';
import { checkFence, fencedBegin } from './fence.js';
import { BEGIN, checkStorableEntryKeys, checkStorableKey, columns, keyOf, SQL, type KeyRow, type ReadRow } from './schema.js';

/** An op ready to write: a put's delta copied (the caller may change its buffers afterwards), or its whole state. */
export interface Prepared {
  readonly op: WriteOp;
  readonly id: string;
  /** A put's bytes to set, unless it carries its state. */
  readonly set: ReadonlyMap<string, Uint8Array> | undefined;
  /** A put's whole state (a trusted batch's). */
  readonly state: string | undefined;
  readonly entryCount: number | undefined;
}

/**
 * Checks what `checkBatch` leaves to the backend and copies the bytes, so
 * later changes by the caller cannot leak in. A trusted batch (the SDK's own)
 * is used as it is.
 */
export function prepare(op: WriteOp, i: number, trusted: boolean): Prepared {
  const id = keyString(op.key);
  if (op.kind === 'delete') return { op, id, set: undefined, state: undefined, entryCount: undefined };
  if (trusted && op.state !== undefined && op.entryCount !== undefined && op.expectedVersion !== undefined) {
    return { op, id, set: undefined, state: op.state, entryCount: op.entryCount };
  }
  checkStorableKey(op.key, 'ops', `ops[${i}].key`);
  const set = new Map([...(op.set ?? [])].map(([k, v]) => [k, new Uint8Array(v)]));
  checkStorableEntryKeys([...set.keys(), ...(op.remove ?? [])], `ops[${i}]`);
  return { op, id, set, state: undefined, entryCount: undefined };
}

/** A put of a whole state, or a delete, each with the version it expects: what {@link applyStates} writes. */
export function isWholeState(p: Prepared): boolean {
  return p.op.expectedVersion !== undefined && (p.op.kind === 'delete' || p.state !== undefined);
}

export interface Fenced { fence: CommitFence; timeoutMs: number; statementTimeoutMs: number }

/**
 * The SDK's own batches: one transaction with at most one statement per kind
 * of op, each checking the expected versions as it writes (`WHERE version =`,
 * `ON CONFLICT DO NOTHING`) and counting the rows it wrote. Rows are locked as
 * they are written, in the order of the sorted batch (that of `SQL.lock`), so
 * two batches over the same objects queue instead of deadlocking. A count
 * that falls short rolls the whole batch back as a conflict, naming the
 * objects of that statement whose version moved; otherwise every object is
 * at the version it expected plus one.
 */
export function applyStates(pool: Pool, batch: readonly Prepared[], isolation: Isolation, fenced: Fenced | undefined, origin: string): Promise<number[]> {
  const sorted = [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const updates: Prepared[] = [];
  const inserts: Prepared[] = [];
  const deletes: Prepared[] = [];
  const absent: Prepared[] = [];
  for (const p of sorted) {
    if (p.op.kind === 'put') (p.op.expectedVersion === 0 ? inserts : updates).push(p);
    else (p.op.expectedVersion === 0 ? absent : deletes).push(p);
  }
  return inTransaction(pool, batch, isolation, fenced, async (client) => {
    const short: Prepared[] = [];
    const count = (result: { rowCount: number | null }, ops: readonly Prepared[]): void => {
      if (result.rowCount !== ops.length) short.push(...ops);
    };
    // The updates (most of a commit) are sent first; the change events, which need only the expected versions,
    // are built while the server runs them, and go out with the commit if every object was written.
    const updated = updates.length > 0 ? sendUpdates(client, updates) : undefined;
    updated?.catch(() => undefined); // awaited below; this keeps a failure from counting as unhandled meanwhile
    // A delete's event carries the deleted object's last version plus one; one that expected no object deleted nothing (0).
    const events = notifyStatements(origin, batch.map((p) => p.op), batch.map((p) => (p.op.kind === 'delete' && p.op.expectedVersion === 0 ? 0 : (p.op.expectedVersion ?? 0) + 1)));
    if (updated !== undefined) count(await updated, updates);
    if (inserts.length > 0) {
      count(await client.query(SQL.insertStates, [...binaryColumns(inserts), textArray(inserts.map(stateOf)), int4Array(inserts.map(entryCountOf)), int8Array(inserts.map(wakeOf))]), inserts);
    }
    if (deletes.length > 0) count(await client.query(SQL.deleteAtVersions, [...binaryColumns(deletes), int8Array(deletes.map((p) => p.op.expectedVersion ?? 0))]), deletes);
    // A delete expecting no object only checks that there is none.
    if (absent.length > 0) {
      const present = new Set((await client.query<KeyRow>(SQL.versions, columns(absent.map((p) => p.op.key)))).rows.map(keyOf));
      short.push(...absent.filter((p) => present.has(p.id)));
    }
    if (short.length > 0) throw new CreationRace(short, true);
    await commitWithEvents(client, events);
    return batch.map((p) => (p.op.kind === 'put' ? (p.op.expectedVersion ?? 0) + 1 : 0));
  });
}

/**
 * One transaction: lock and check, then write set-based; versions come back
 * aligned with `batch`.
 */
export function applyBatch(pool: Pool, batch: readonly Prepared[], isolation: Isolation, fenced: Fenced | undefined, origin: string): Promise<number[]> {
  // Sorted, so concurrent batches lock and insert in one order.
  const sorted = [...batch].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return inTransaction(pool, batch, isolation, fenced, async (client, seen) => {
    // Puts that carry only a delta need the stored state to merge it into.
    const merging = sorted.some((p) => p.op.kind === 'put' && p.state === undefined);
    const { rows } = await client.query<ReadRow>(merging ? SQL.lockWithState : SQL.lock, columns(sorted.map((p) => p.op.key)));
    const current = new Map(rows.map((row) => [keyOf(row), Number(row.version)]));
    const stored = merging ? new Map(rows.map((row) => [keyOf(row), row])) : undefined;
    seen.read = current;
    const conflicts = batch.flatMap(({ op, id }) => {
      const actual = current.get(id) ?? 0;
      return op.expectedVersion !== undefined && op.expectedVersion !== actual ? [conflict(op, op.expectedVersion, actual)] : [];
    });
    if (conflicts.length > 0) throw new ConflictError(conflicts);
    const written = await writeBatch(client, sorted, current, stored);
    const raced = batch.filter((p) => p.op.kind === 'put' && !written.has(p.id));
    if (raced.length > 0) throw new CreationRace(raced);
    const deleted = (id: string): number => (current.has(id) ? (current.get(id) ?? 0) + 1 : 0);
    await notifyAndCommit(client, origin, batch.map((p) => p.op), batch.map((p) => (p.op.kind === 'put' ? written.get(p.id) ?? 0 : deleted(p.id))));
    return batch.map((p) => (p.op.kind === 'put' ? written.get(p.id) ?? 0 : 0));
  });
}

/**
 * Runs `write` in one transaction on a client of its own; `write` commits it. A
 * fenced batch checks (and share-locks) its slots before anything else,
 * under the timeouts of {@link fencedBegin}. A lost race (`CreationRace`)
 * or a serialization failure is rolled back and reported as a conflict with
 * the versions found after the rollback (`seen.read`: what the batch had
 * read, for ops that expected no version).
 */
async function inTransaction(
  pool: Pool,
  batch: readonly Prepared[],
  isolation: Isolation,
  fenced: Fenced | undefined,
  write: (client: PoolClient, seen: { read?: Map<string, number> }) => Promise<number[]>,
): Promise<number[]> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error): void => { broken = error; }; // a checked-out client without a listener would crash the process
  client.on('error', onError);
  const seen: { read?: Map<string, number> } = {};
  try {
    await client.query(fenced === undefined ? BEGIN[isolation] : fencedBegin(isolation, fenced.timeoutMs, fenced.statementTimeoutMs));
    if (fenced !== undefined) await checkFence(client, fenced.fence);
    // `write` ends with notifyAndCommit: the change events go out with the commit, in its round trip.
    return await write(client, seen);
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken ??= rollbackError instanceof Error ? rollbackError : translateError('rollback', rollbackError);
    });
    const lost = error instanceof CreationRace ? error.raced : isSerializationFailure(error) ? batch : undefined;
    if (lost === undefined) throw error;
    if (broken !== undefined) throw broken;
    // On this connection, not another from the pool: a pool of one would wait for itself.
    throw await freshConflict(client, lost, seen.read, error instanceof CreationRace ? undefined : error, error instanceof CreationRace && error.some);
  } finally {
    client.off('error', onError);
    client.release(broken); // a broken client is destroyed, not pooled
  }
}

/** Writes a checked batch with one statement per kind of change; returns the new version of each put's object. */
async function writeBatch(
  client: PoolClient,
  sorted: readonly Prepared[],
  current: ReadonlyMap<string, number>,
  stored: ReadonlyMap<string, ReadRow> | undefined,
): Promise<Map<string, number>> {
  const puts = sorted.filter((p) => p.op.kind === 'put');
  const written = new Map<string, number>();
  if (puts.length > 0) {
    const documents = puts.map((p) => documentOf(p, stored?.get(p.id)));
    const unchecked = puts.filter((p) => p.op.expectedVersion === undefined && !current.has(p.id)).map((p) => p.op.key);
    const versions = puts.map((p) => (current.get(p.id) ?? 0) + 1);
    const { rows } = await client.query<KeyRow>(SQL.putObjects, [
      ...columns(puts.map((p) => p.op.key)),
      versions,
      documents.map((d) => d.state),
      documents.map((d) => d.raw),
      documents.map((d) => d.entryCount),
      puts.map(wakeOf),
      ...columns(unchecked),
      ...columns(puts.filter(keepsWake).map((p) => p.op.key)),
    ]);
    for (const row of rows) written.set(keyOf(row), Number(row.version));
  }
  const deleted = sorted.filter((p) => p.op.kind === 'delete' && current.has(p.id)).map((p) => p.op.key);
  if (deleted.length > 0) await client.query(SQL.deleteObjects, columns(deleted));
  return written;
}

/**
 * The version-checked update of whole states: with one key column when the
 * batch is in one class and partition, and without the wake columns when
 * every put leaves its wake time as it is.
 */
function sendUpdates(client: PoolClient, updates: readonly Prepared[]): Promise<{ rowCount: number | null }> {
  const first = updates[0]!.op.key;
  const onePartition = updates.every((p) => p.op.key.clsId === first.clsId && p.op.key.partitionId === first.partitionId);
  const keepsWakes = updates.every(keepsWake);
  const rest = [int8Array(updates.map((p) => p.op.expectedVersion ?? 0)), textArray(updates.map(stateOf)), int4Array(updates.map(entryCountOf))];
  if (!keepsWakes) rest.push(int8Array(updates.map(wakeOf)), boolArray(updates.map(keepsWake)));
  return onePartition
    ? client.query(keepsWakes ? SQL.updateStatesInKeepingWakes : SQL.updateStatesIn, [first.clsId, first.partitionId, textArray(updates.map((p) => p.op.key.objectId)), ...rest])
    : client.query(keepsWakes ? SQL.updateStatesKeepingWakes : SQL.updateStates, [...binaryColumns(updates), ...rest]);
}

/** Keys as the three parallel arrays of `SQL`'s `unnest`, in binary (see `binary-arrays.ts`). */
function binaryColumns(batch: readonly Prepared[]): [Buffer, Buffer, Buffer] {
  return [textArray(batch.map((p) => p.op.key.clsId)), int4Array(batch.map((p) => p.op.key.partitionId)), textArray(batch.map((p) => p.op.key.objectId))];
}

/** A whole-state put's document and entry count ({@link isWholeState} has checked they are there). */
function stateOf(p: Prepared): string {
  return p.state ?? '';
}
function entryCountOf(p: Prepared): number {
  return p.entryCount ?? 0;
}

/** The wake time a put writes: its own, or null (a new row's, or a cleared one's; see {@link keepsWake}). */
function wakeOf(p: Prepared): number | null {
  return p.op.kind === 'put' ? (p.op.wakeAt ?? null) : null;
}

/** A put that says nothing of the wake time leaves the stored one. */
function keepsWake(p: Prepared): boolean {
  return p.op.kind === 'put' && p.op.wakeAt === undefined;
}

/** The row a put writes: its own state, or its delta merged into what is stored. */
function documentOf(p: Prepared, row: ReadRow | undefined): EncodedDocument {
  if (p.state !== undefined && p.entryCount !== undefined) return { state: p.state, raw: null, entryCount: p.entryCount };
  const op = p.op.kind === 'put' ? p.op : undefined;
  return encodeDocument(applyDelta(row === undefined ? new Map<string, Uint8Array>() : decodeDocument(row.state, row.raw), p.set, op?.remove));
}

/**
 * Ops whose expected version did not hold when they were written (a creation
 * another transaction raced, say). `some`: only some of `raced` lost (a
 * statement wrote fewer rows than it had ops), so the conflict names those
 * whose version is not the one they expected.
 */
class CreationRace extends Error {
  constructor(
    readonly raced: readonly Prepared[],
    readonly some = false,
  ) {
    super('objects were created concurrently');
  }
}

/**
 * The conflict a lost race reports, with versions read after the rollback. An
 * op that expected no version reports the version the batch had read (or the
 * current one, when the batch never got to read) as the one it expected.
 * `moved`: `ops` may hold some that did not lose, so only those whose version
 * is not the one they expected are named.
 */
async function freshConflict(
  client: PoolClient,
  ops: readonly Prepared[],
  read: ReadonlyMap<string, number> | undefined,
  cause: unknown,
  moved: boolean,
): Promise<ConflictError> {
  const { rows } = await client.query<KeyRow>(SQL.versions, columns(ops.map((p) => p.op.key)));
  const fresh = new Map(rows.map((row) => [keyOf(row), Number(row.version)]));
  const all = ops.map(({ op, id }) => {
    const actual = fresh.get(id) ?? 0;
    return conflict(op, op.expectedVersion ?? (read === undefined ? actual : read.get(id) ?? 0), actual);
  });
  // The ones that lost moved on; should none have by now (deleted and created again at the same version), all are named.
  const changed = moved ? all.filter((c) => c.expected !== c.actual) : all;
  return new ConflictError(changed.length > 0 ? changed : all, cause === undefined ? undefined : { cause });
}

function conflict(op: WriteOp, expected: number, actual: number): VersionConflict {
  return { ref: { clsId: op.key.clsId, partitionId: op.key.partitionId, objectId: op.key.objectId }, expected, actual };
}
