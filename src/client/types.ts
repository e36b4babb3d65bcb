/**
 * The remote client's contracts. The client shares these types with the
 * server, never its runtime: importing the client loads no store, session or
 * HTTP server code.
 */
import type { WireChangeEvent, WireGapEvent, WireWatchEvent } from '../protocol/events.js';
import type { ObjectListing, ObjectState } from '../protocol/wire.js';
import type { OaasObject } from '../object/oaas-object.js';

export type { ObjectListing, ObjectState };
export type { WireChangeEvent as RemoteChangeEvent, WireGapEvent as RemoteGapEvent, WireWatchEvent as RemoteWatchEvent };

/** Options of `client.watch()`. */
export interface RemoteWatchOptions {
  /** @default 0 */
  partitionId?: number | undefined;
  /** The last version seen: when the object is past it, the first event is a gap up to its version. */
  since?: number | undefined;
}

/** Options of `client.watchClass()`. */
export interface RemoteClassWatchOptions {
  /** @default 0 */
  partitionId?: number | undefined;
  /** The last event seen (`objectId`, `version`): that object's next event comes after a gap if versions were missed. */
  after?: { readonly objectId: string; readonly version: number } | undefined;
}

/** Options of `connect()`. */
export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. @default none */
  token?: string | undefined;
  /**
   * How long a call may take before it fails with `RemoteError`; for a stream,
   * how long until its first value. @default 30000
   */
  timeoutMs?: number | undefined;
  /**
   * The `fetch` to send requests with: inject `(input, init) => app.request(input, init)`
   * to test against an app in process. @default globalThis.fetch
   */
  fetch?: typeof fetch | undefined;
  /** A W3C `traceparent` to send with every request, or a function returning the current one. @default none */
  traceparent?: string | (() => string | undefined) | undefined;
}

/** Options of `client.ref()`. */
export interface RefOptions {
  /** @default 0 */
  partitionId?: number | undefined;
  /**
   * Sent as `Idempotency-Key` on every call made through this ref: a repeated
   * key for the same object and method returns the first result without
   * running the method again. Use one ref per logical operation.
   */
  idempotencyKey?: string | undefined;
}

/** Options of `client.invoke()`. */
export interface InvokeOptions {
  /** @default 0 */
  partitionId?: number | undefined;
  /** See {@link RefOptions.idempotencyKey}. */
  idempotencyKey?: string | undefined;
}

/** Options of `client.get()`, `client.put()` and `client.delete()`. */
export interface ObjectOptions {
  /** @default 0 */
  partitionId?: number | undefined;
}

/** Options of `client.list()`. */
export interface ListObjectsOptions {
  /** Only ids starting with this. */
  prefix?: string | undefined;
  /** Page size, 1 to 1000. @default 100 */
  limit?: number | undefined;
  /** `next_cursor` of the previous page. */
  cursor?: string | undefined;
  /** @default 0 */
  partitionId?: number | undefined;
}

/** The body of `client.put()`: the entries to set (the rest go back to their defaults) and, optionally, the version expected. */
export interface PutState {
  readonly entries: Readonly<Record<string, unknown>>;
  /** When given, the PUT fails with `ConflictError` unless the stored version is this one. */
  readonly version?: number | undefined;
}

/** A service class, as the client needs it: its constructor (for the class id and the method metadata). */
export type ServiceClass<T extends OaasObject> = abstract new () => T;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;

/** A method as a remote call: streaming methods give an async iterable, the rest a Promise of the JSON result. */
export type RemoteMethod<F> = F extends (...args: infer A) => AsyncIterable<infer Y>
  ? (...args: A) => AsyncIterable<Y>
  : F extends (...args: infer A) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;

/**
 * A typed stub of a remote object: each method of `T` (not `OaasObject`'s own
 * members, not `_`-prefixed names) becomes a remote call. Only `@method`,
 * `@getter` and `@setter` members are served; calling another one fails with
 * `MethodNotFoundError`.
 */
export type RemoteRef<T> = {
  readonly [K in keyof T as K extends keyof OaasObject ? never : K extends `_${string}` ? never : T[K] extends AnyFunction ? K : never]: RemoteMethod<T[K]>;
};

/** A connection to an OaaS server. */
export interface OaasClient {
  /** The server's base URL. */
  readonly url: string;
  /**
   * A typed stub for object `id` of class `Cls`; no request is made until a method is called.
   *
   * @example
   * const counter = client.ref(Counter, 'c1');
   * const count = await counter.increment(2); // number
   */
  ref<T extends OaasObject>(Cls: ServiceClass<T>, id: string | number, options?: RefOptions): RemoteRef<T>;
  /** Invokes a method by name; the result is the method's JSON result. Streaming methods: use {@link stream}. */
  invoke(Cls: ServiceClass<OaasObject>, id: string | number, method: string, args?: readonly unknown[], options?: InvokeOptions): Promise<unknown>;
  /** Invokes a stateless method by name. */
  invokeStateless(Cls: ServiceClass<OaasObject>, method: string, args?: readonly unknown[], options?: ObjectOptions): Promise<unknown>;
  /** Invokes a streaming (`async *`) method; the request starts when iteration does, and stopping early cancels it. */
  stream(Cls: ServiceClass<OaasObject>, id: string | number, method: string, args?: readonly unknown[], options?: ObjectOptions): AsyncIterable<unknown>;
  /** The object's stored state; rejects with `ObjectNotFoundError` if there is none. */
  get(Cls: ServiceClass<OaasObject>, id: string | number, options?: ObjectOptions): Promise<ObjectState>;
  /** Creates or replaces the object's state. */
  put(Cls: ServiceClass<OaasObject>, id: string | number, state: PutState, options?: ObjectOptions): Promise<ObjectState>;
  /** Deletes the object (deleting a missing object succeeds). */
  delete(Cls: ServiceClass<OaasObject>, id: string | number, options?: ObjectOptions): Promise<void>;
  /** One page of the class's objects, ordered by id. */
  list(Cls: ServiceClass<OaasObject>, options?: ListObjectsOptions): Promise<ObjectListing>;
  /** True when the server answers `/readyz` (its store is reachable). */
  ready(): Promise<boolean>;
  /**
   * The change events of one object, from now on (see docs/events.md). The
   * request starts when iteration does; stopping it (break, return) closes
   * the request. A lost connection ends the iteration with `RemoteError`:
   * watch again with `since` set to the last version seen.
   *
   * @example
   * for await (const event of client.watch(Counter, 'c1')) console.log(event.kind, event.version);
   */
  watch(Cls: ServiceClass<OaasObject>, id: string | number, options?: RemoteWatchOptions): AsyncIterable<WireWatchEvent>;
  /** The change events of every object of a class in one partition; as {@link OaasClient.watch}. */
  watchClass(Cls: ServiceClass<OaasObject>, options?: RemoteClassWatchOptions): AsyncIterable<WireWatchEvent>;
}
