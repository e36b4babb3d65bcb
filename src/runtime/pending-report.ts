/** Small views of pending work, for errors and logs. */
import { AlreadyExistsError, CommitError, ConflictError, FencedError, LockTimeoutError, StoreError, type ObjectIdentity, type UnpersistedObject } from '../errors.js';
import { ObjectRef } from '../object/object-ref.js';
import type { ManagedSession } from '../session/session.js';

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function formatRef(ref: ObjectIdentity): string {
  return `${ref.clsId}/${String(ref.partitionId)}/${ref.objectId}`;
}

/** An identity as an `ObjectRef`, which prints as `cls/partition/id` in logs and strings. */
export function toRef(key: ObjectIdentity): ObjectRef {
  return key instanceof ObjectRef ? key : new ObjectRef(key.clsId, key.partitionId, key.objectId);
}

export function pendingRefs(session: ManagedSession): ObjectRef[] {
  return [...session.pending].filter((c) => c.hasPendingChanges).map((c) => toRef(c.key));
}

export function unpersistedOf(session: ManagedSession): UnpersistedObject[] {
  return [...session.pending]
    .filter((c) => c.hasPendingChanges)
    .map((c) => ({
      ref: c.key,
      fields: c.deleted ? ['<deleted>'] : c.lifecycle === 'new' ? ['<created>'] : c.dirtyNames(),
    }));
}

export function allTransient(error: unknown): boolean {
  const failures = error instanceof CommitError ? error.failures : [error];
  return failures.every((f) => (f instanceof StoreError && f.transient) || f instanceof LockTimeoutError);
}

/** The objects a failed commit found newer in the store (conflicts, creations of existing objects): retrying them cannot succeed. */
export function staleRefsOf(error: unknown): ObjectIdentity[] {
  const failures = error instanceof CommitError ? error.failures : [error];
  return failures.flatMap((f) => (f instanceof ConflictError ? f.conflicts.map((c) => c.ref) : f instanceof AlreadyExistsError ? f.refs : []));
}

/** True when a fenced batch is among a failure's causes (its objects were dropped, so the rest can be flushed again). */
export function fencedIn(error: unknown): boolean {
  const failures = error instanceof CommitError ? error.failures : [error];
  return failures.some((f) => f instanceof FencedError);
}

/** The conflict among a failure's causes that made `discarded` stale, for reporting. */
export function conflictCause(failure: unknown, discarded: readonly ObjectIdentity[]): Error {
  const failures = failure instanceof CommitError ? failure.failures : failure === undefined ? [] : [failure];
  const conflict = failures.find((f) => f instanceof ConflictError || f instanceof AlreadyExistsError);
  if (conflict instanceof Error) return conflict;
  return new ConflictError(discarded.map((ref) => ({ ref, expected: -1, actual: -1 })));
}
