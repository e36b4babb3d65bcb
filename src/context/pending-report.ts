/** Small views of pending work, for errors and logs. */
import { CommitError, LockTimeoutError, StoreError, type ObjectIdentity, type UnpersistedObject } from '../errors.js';
import type { ManagedSession } from '../session/session.js';

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function formatRef(ref: ObjectIdentity): string {
  return `${ref.clsId}/${String(ref.partitionId)}/${ref.objectId}`;
}

export function pendingRefs(session: ManagedSession): ObjectIdentity[] {
  return [...session.pending].filter((c) => c.hasPendingChanges).map((c) => c.key);
}

export function unpersistedOf(session: ManagedSession): UnpersistedObject[] {
  return [...session.pending]
    .filter((c) => c.hasPendingChanges)
    .map((c) => ({
      ref: c.key,
      fields: c.deleted ? ['<deleted>'] : c.lifecycle === 'new' ? ['<created>'] : [...(c.dirty ?? [])],
    }));
}

export function allTransient(error: unknown): boolean {
  const failures = error instanceof CommitError ? error.failures : [error];
  return failures.every((f) => (f instanceof StoreError && f.transient) || f instanceof LockTimeoutError);
}
