/**
 * One object's write on ODGM: the DataService calls a put or a delete takes,
 * the version checks ODGM does not make itself, and the version the object
 * ends at. ODGM's versions are reported as they are (see docs/stores.md,
 * "ODGM versions"): a put that only sets entries steps it by one, which is
 * every commit the SDK makes.
 */
import { ConflictError, StoreError, formatIdentity } from '../../errors.js';
import type { DeleteOp, ObjectKey, PutOp } from '../store.js';
import type { Found, OdgmCalls } from './calls.js';
import { GRPC_STATUS, grpcStatus } from './errors.js';

/** How often a put without an expected version reads and writes again when another writer got in between. */
const UNCHECKED_ATTEMPTS = 3;

const NO_ENTRIES: ReadonlyMap<string, Uint8Array> = new Map();

/** The version the SDK sees: a tombstone is an absent object, at 0. */
function liveVersion(found: Found): number {
  return found.kind === 'live' ? found.version : 0;
}

function conflict(key: ObjectKey, expected: number, actual: number): ConflictError {
  return new ConflictError([{ ref: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, expected, actual }]);
}

/** ODGM keeps a deleted object's tombstone, and no DataService call removes it: the id is spent. */
function spentId(key: ObjectKey): StoreError {
  return new StoreError(
    `odgm apply failed: ${formatIdentity(key)} was deleted, and ODGM keeps a tombstone for a deleted object that no call removes: an object cannot be created again under that id`,
    { transient: false },
  );
}

function isAborted(error: unknown): boolean {
  return grpcStatus(error)?.code === GRPC_STATUS.ABORTED;
}

/**
 * The error for a write ODGM refused with `ABORTED`: a `ConflictError`
 * with the version found now. ODGM's message ("Version mismatch: expected
 * X, got Y") gives a tombstone's version for a deleted object, so the
 * object is read again; its message is the fallback when that read fails.
 * Any other error is returned as it is, for the boundary to translate.
 */
async function refusal(calls: OdgmCalls, key: ObjectKey, expected: number, error: unknown): Promise<unknown> {
  const status = grpcStatus(error);
  if (status?.code !== GRPC_STATUS.ABORTED) return error;
  const found = await calls.read(key).catch(() => undefined);
  if (found?.kind === 'deleted' && expected === 0) return spentId(key);
  const said = /expected\s+\d+,\s*got\s+(\d+)/i.exec(status.details)?.[1];
  // -1: ODGM refused the write and its version could not be learnt.
  const actual = found === undefined ? (said === undefined ? -1 : Number(said)) : liveVersion(found);
  return new ConflictError([{ ref: { clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }, expected, actual }], { cause: error });
}

/**
 * A put. With an expected version and only entries to set (every SDK
 * commit) it is one `BatchSetValues` whose `expected_object_version` ODGM
 * checks, and the object ends one version up. Anything else reads the
 * object first: to check a version ODGM would not, to create an object
 * with no entries, and to know how far removing entries moves ODGM's
 * version (one step for the sets, one per removed entry that existed, one
 * more when nothing is set).
 */
export async function writePut(calls: OdgmCalls, op: PutOp): Promise<number> {
  const set = op.set ?? NO_ENTRIES;
  const remove = op.remove ?? [];
  const expected = op.expectedVersion;
  if (expected !== undefined && set.size > 0 && remove.length === 0) {
    try {
      await calls.batchSet(op.key, set, [], expected);
    } catch (error) {
      throw await refusal(calls, op.key, expected, error);
    }
    return expected + 1;
  }
  for (let attempt = 1; ; attempt += 1) {
    const found = await calls.read(op.key);
    const actual = liveVersion(found);
    if (found.kind === 'deleted' && (expected === undefined || expected === 0)) throw spentId(op.key);
    if (expected !== undefined && expected !== actual) throw conflict(op.key, expected, actual);
    const entries = found.kind === 'live' ? found.entries : NO_ENTRIES;
    const removed = remove.filter((entryKey) => entries.has(entryKey)).length;
    if (set.size === 0 && removed === 0) {
      // Nothing changes, and ODGM has no call that steps a version without a change.
      if (found.kind === 'live') return actual;
      await calls.createEmpty(op.key);
      return (await calls.version(op.key)) ?? 0;
    }
    try {
      // Checked against the version just read, so the count below is exact, even without an expected version.
      await calls.batchSet(op.key, set, remove, found.kind === 'live' ? found.version : 0);
    } catch (error) {
      if (expected === undefined && attempt < UNCHECKED_ATTEMPTS && isAborted(error)) continue;
      if (expected === undefined && isAborted(error)) {
        throw new StoreError(`odgm apply failed: ${formatIdentity(op.key)} changed under ${UNCHECKED_ATTEMPTS} attempts to write it`, { transient: true }, { cause: error });
      }
      throw await refusal(calls, op.key, actual, error);
    }
    return actual + (set.size > 0 ? 1 : 0) + removed + (set.size === 0 ? 1 : 0);
  }
}

/**
 * A delete. ODGM's `Delete` checks no version, so an expected version is
 * checked by reading first; a write that lands between that read and the
 * delete is deleted with the object.
 */
export async function writeDelete(calls: OdgmCalls, op: DeleteOp): Promise<number> {
  if (op.expectedVersion === undefined) {
    await calls.delete(op.key);
    return 0;
  }
  const found = await calls.read(op.key);
  const actual = liveVersion(found);
  if (actual !== op.expectedVersion) throw conflict(op.key, op.expectedVersion, actual);
  if (found.kind === 'live') await calls.delete(op.key);
  return 0;
}
