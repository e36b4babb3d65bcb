import type { ObjectIdentity } from '../../errors.js';
import type { OaasObject } from '../../object/oaas-object.js';
import type { ObjectRef } from '../../object/object-ref.js';

/** What `watch` follows: an object (a ref, a live object, its identity), or a class (a `@service` class or its class id). */
export type WatchTarget = ObjectIdentity | OaasObject | (abstract new () => OaasObject) | string;

/** One committed version of one object. */
export interface ChangeEvent {
  readonly kind: 'create' | 'update' | 'delete';
  readonly ref: ObjectRef;
  /** The version the commit wrote; a delete's is the deleted object's last version plus one. */
  readonly version: number;
  /** The state fields (entry keys) the commit wrote; empty for a delete. */
  readonly changed: readonly string[];
}

/**
 * Versions of one object a watcher will never see one by one: it fell
 * behind (its buffer was full), or the versions were written where this
 * process could not hear them. Inclusive range. There is no history to
 * replay them from: read the object for its current state.
 */
export interface GapEvent {
  readonly kind: 'gap';
  readonly ref: ObjectRef;
  readonly from: number;
  readonly to: number;
}

/** What a watch listener receives. */
export type WatchEvent = ChangeEvent | GapEvent;

/** Receives events one at a time: the next waits until a returned promise settles. */
export type WatchListener = (event: WatchEvent) => void | Promise<void>;

/** Options of `watch`. */
export interface WatchOptions {
  /**
   * An object watch only: the last version the caller has seen. When the
   * stored version is past it, the first event is a gap from `since + 1` to
   * the stored version.
   */
  readonly since?: number | undefined;
  /**
   * A class watch only: the last event the caller saw of one object (the
   * class event stream's `Last-Event-ID`, `<objectId>:<version>`); that
   * object's next event comes after a gap if versions were missed. Other
   * objects start from their next version.
   */
  readonly after?: { readonly objectId: string; readonly version: number } | undefined;
  /** A class watch given as a class or class id: its partition. @default the runtime's default partition */
  readonly partitionId?: number | undefined;
  /**
   * Events held for a listener still busy with earlier ones; past it, the
   * versions it misses are reported as one gap per object.
   * @default 1000
   */
  readonly bufferSize?: number | undefined;
}

/** Stops a watch; no event is delivered after it returns. */
export interface Unwatch {
  (): void;
  /**
   * Resolves once the watch hears every commit from here on, in this process
   * and (on PostgreSQL and Redis) in the others; rejects when listening to
   * the store failed.
   */
  readonly ready: Promise<void>;
}
