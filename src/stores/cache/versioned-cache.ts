import type { ObjectKey, StoredObject } from '../store.js';

/**
 * A cache of stored objects that never serves a version older than one it
 * has been told about. Every write names the versions involved, so updates
 * that arrive out of order (two processes, two commits) cannot put an old
 * state back over a newer one.
 */
export interface VersionedCache {
  /** Checks what the cache needs locally (its driver); it may still be unreachable afterwards. */
  open?(): Promise<void>;
  /** A complete cached object, or `undefined`. */
  read(key: ObjectKey): Promise<StoredObject | undefined>;
  /** Caches what a store read returned, unless the cache knows a newer version. */
  fill(object: StoredObject): Promise<void>;
  /**
   * After a commit wrote `object` at `version` (from `previous`, when known):
   * applies the changed entries to a cached copy at `previous`, or else
   * records `version` as the newest so no older fill is accepted.
   */
  committed(
    key: ObjectKey,
    previous: number | undefined,
    version: number,
    set: ReadonlyMap<string, Uint8Array> | undefined,
    remove: readonly string[] | undefined,
  ): Promise<void>;
  /** After a commit deleted the object at `previous` (when known). */
  deleted(key: ObjectKey, previous: number | undefined): Promise<void>;
  /** Drops whatever is cached for the object. */
  evict(key: ObjectKey): Promise<void>;
  close(): Promise<void>;
}
