/**
 * Every error the SDK raises is an {@link OaasError} with a stable `code`.
 *
 * Codes are part of the public contract: they survive the wire (remote
 * callers get the same code back), they are documented in `docs/errors.md`,
 * and a code is never reused for a different meaning.
 */

export { ERROR_CODES, codesOfKind, kindOf, type ErrorCode, type ErrorKind } from './error-codes.js';
import { ERROR_CODES, type ErrorCode, type ErrorKind } from './error-codes.js';

/** Options every {@link OaasError} accepts. */
export interface OaasErrorOptions {
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
}

/** The identity of one object, as errors report it. */
export interface ObjectIdentity {
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;
}

/** Formats an identity the way refs print: `cls/partition/id`. */
export function formatIdentity(key: ObjectIdentity): string {
  return `${key.clsId}/${key.partitionId}/${key.objectId}`;
}

/** Base class of every SDK error. */
export class OaasError extends Error {
  /** Stable, documented code; never reused. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options: OaasErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** The HTTP status this error maps to when it crosses the wire. */
  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** Whose fault the error is: the caller's, the application's, the platform's, or a conflict. */
  get kind(): ErrorKind {
    return ERROR_CODES[this.code].kind;
  }
}

/** The configuration (or an environment variable standing for it) is invalid. */
export class ConfigurationError extends OaasError {
  /** The config field at fault, e.g. `autoCommitIntervalMs`. */
  readonly field: string;
  constructor(field: string, message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_CONFIG_INVALID', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** A public function was called with an argument it cannot accept. */
export class InvalidArgumentError extends OaasError {
  /** The argument at fault. */
  readonly argument: string;
  constructor(argument: string, message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_ARGUMENT_INVALID', `${argument}: ${message}`, options);
    this.argument = argument;
  }
}

/** A class or method could not be registered (duplicate id, wrong base class, ...). */
export class RegistrationError extends OaasError {
  constructor(message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_REGISTRY_CONFLICT', message, options);
  }
}

/** An object id does not match `^[a-z0-9._:-]{1,160}$`. */
export class InvalidIdError extends OaasError {
  readonly id: unknown;
  constructor(id: unknown, message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_ID_INVALID', message, options);
    this.id = id;
  }
}

/** A value cannot be stored as object state. */
export class SerializationError extends OaasError {
  readonly clsId: string | undefined;
  readonly objectId: string | undefined;
  /** Path of the offending value inside the object, e.g. `profile.tags[2]`. */
  readonly path: string;
  constructor(
    where: { clsId?: string; objectId?: string; path: string },
    message: string,
    options?: OaasErrorOptions,
  ) {
    const owner = where.clsId === undefined ? '' : `${where.clsId}${where.objectId === undefined ? '' : `/${where.objectId}`} `;
    super('OAAS_ERR_STATE_UNSERIALIZABLE', `${owner}field ${where.path}: ${message}`, options);
    this.clsId = where.clsId;
    this.objectId = where.objectId;
    this.path = where.path;
  }
}

/** The object does not exist (in this process or in the store). */
export class ObjectNotFoundError extends OaasError {
  readonly ref: ObjectIdentity;
  constructor(ref: ObjectIdentity, options?: OaasErrorOptions) {
    super('OAAS_ERR_OBJECT_NOT_FOUND', `object ${formatIdentity(ref)} not found`, options);
    this.ref = ref;
  }
}

/** An object with this identity already exists. */
export class AlreadyExistsError extends OaasError {
  readonly refs: readonly ObjectIdentity[];
  constructor(refs: readonly ObjectIdentity[], options?: OaasErrorOptions) {
    super('OAAS_ERR_OBJECT_EXISTS', `object already exists: ${refs.map(formatIdentity).join(', ')}`, options);
    this.refs = refs;
  }
}

/** The object was deleted; it cannot be used any more. */
export class ObjectDeletedError extends OaasError {
  readonly ref: ObjectIdentity;
  constructor(ref: ObjectIdentity, options?: OaasErrorOptions) {
    super('OAAS_ERR_OBJECT_DELETED', `object ${formatIdentity(ref)} was deleted`, options);
    this.ref = ref;
  }
}

/**
 * An SDK call on an instance made with `new`: such an instance has no
 * identity and persists nothing, so calling it would silently lose work.
 * A server bug when it crosses the wire (hence 500): the caller's request
 * was fine, the service's code used `new`.
 */
export class ObjectDetachedError extends OaasError {
  /** The class id, when the class is registered. */
  readonly clsId: string | undefined;
  /** The member called or read, e.g. `increment` or `id`. */
  readonly member: string;
  constructor(className: string, clsId: string | undefined, member: string, options?: OaasErrorOptions) {
    super(
      'OAAS_ERR_OBJECT_DETACHED',
      `${className}.${member} used on an instance made with \`new ${className}()\`, which is plain data and persists nothing; ` +
        `use ${className}.create(...) or ${className}.load(id) to get a live object`,
      options,
    );
    this.clsId = clsId;
    this.member = member;
  }
}

/**
 * A synchronous write hit an object whose turn another context holds (a
 * running method or an open `sessionScope`). Writes cannot wait, so they fail
 * instead of interleaving with the holder's changes.
 */
export class ObjectBusyError extends OaasError {
  readonly ref: ObjectIdentity;
  constructor(ref: ObjectIdentity, options?: OaasErrorOptions) {
    super(
      'OAAS_ERR_OBJECT_BUSY',
      `object ${formatIdentity(ref)} is held by another context; call a @method or load it inside your scope instead of writing it directly`,
      options,
    );
    this.ref = ref;
  }
}

/** `refresh()` met an object with changes not yet committed; re-reading would discard them. */
export class PendingChangesError extends OaasError {
  readonly ref: ObjectIdentity;
  constructor(ref: ObjectIdentity, options?: OaasErrorOptions) {
    super('OAAS_ERR_OBJECT_PENDING', `object ${formatIdentity(ref)} has changes not yet committed; commit them before refreshing it`, options);
    this.ref = ref;
  }
}

/** One object whose stored version differed from the version a commit expected. */
export interface VersionConflict {
  readonly ref: ObjectIdentity;
  /** The version the commit expected (0: the object must not exist yet). */
  readonly expected: number;
  /** The version found in the store (0: the object does not exist). */
  readonly actual: number;
}

/** Optimistic concurrency check failed: the store holds a different version. */
export class ConflictError extends OaasError {
  readonly conflicts: readonly VersionConflict[];
  constructor(conflicts: readonly VersionConflict[], options?: OaasErrorOptions) {
    super(
      'OAAS_ERR_COMMIT_CONFLICT',
      `version conflict on ${conflicts.map((c) => `${formatIdentity(c.ref)} (expected v${c.expected}, found v${c.actual})`).join(', ')}`,
      options,
    );
    this.conflicts = conflicts;
  }
}

/**
 * A fenced commit was refused: its writer no longer owns every slot it wrote
 * in at the epoch it named (another process took them over, or its lease
 * lapsed), so nothing was written. A 503: this process cannot serve these
 * objects now, the process that owns them can.
 */
export class FencedError extends OaasError {
  /** The cluster member whose commit was refused. */
  readonly memberId: string;
  /** The slots it named, with their epochs, that it no longer owns. */
  readonly slots: readonly { readonly slot: number; readonly epoch: number }[];
  constructor(memberId: string, slots: readonly { readonly slot: number; readonly epoch: number }[], options?: OaasErrorOptions) {
    super('OAAS_ERR_COMMIT_FENCED', `commit of member ${memberId} refused: it no longer owns slot ${slots.map((s) => `${s.slot} at epoch ${s.epoch}`).join(', ')}`, options);
    this.memberId = memberId;
    this.slots = slots;
  }
}

/** Cluster mode: a request forwarded to this process for an object whose slot it does not own (any more); the sender routes it again. */
export class NotOwnerError extends OaasError {
  readonly ref: ObjectIdentity;
  /** The owner as this process sees it, when it knows one. */
  readonly owner: string | undefined;
  constructor(ref: ObjectIdentity, owner: string | undefined, options?: OaasErrorOptions) {
    super('OAAS_ERR_NOT_OWNER', `this process does not own object ${formatIdentity(ref)}${owner === undefined ? '' : `; its owner is ${owner}`}`, options);
    this.ref = ref;
    this.owner = owner;
  }
}

/**
 * Cluster mode: a field of an object another process owns was assigned
 * outside a `@method`. Such an instance forwards its method calls to the
 * owner; its fields are a read-only copy of the owner's state.
 */
export class OwnedElsewhereError extends OaasError {
  readonly ref: ObjectIdentity;
  /** The owning process's member id and URL. */
  readonly owner: { readonly id: string; readonly url: string };
  /** `what` says what was refused, e.g. `assigning count of`. */
  constructor(ref: ObjectIdentity, owner: { readonly id: string; readonly url: string }, what: string, options?: OaasErrorOptions) {
    super(
      'OAAS_ERR_OWNED_ELSEWHERE',
      `${what} ${formatIdentity(ref)} refused: the object is owned by ${owner.id} (${owner.url}); change it in a @method (which runs on its owner) or in a sessionScope (which moves it here)`,
      options,
    );
    this.ref = ref;
    this.owner = owner;
  }
}

/** Waiting for an object's turn took longer than `lockTimeoutMs`. */
export class LockTimeoutError extends OaasError {
  readonly ref: ObjectIdentity;
  readonly timeoutMs: number;
  constructor(ref: ObjectIdentity, timeoutMs: number, options?: OaasErrorOptions) {
    super('OAAS_ERR_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for object ${formatIdentity(ref)}`, options);
    this.ref = ref;
    this.timeoutMs = timeoutMs;
  }
}

/** A `@method` ran longer than its `timeoutMs`; its changes are rolled back. */
export class InvocationTimeoutError extends OaasError {
  readonly method: string;
  readonly timeoutMs: number;
  constructor(method: string, timeoutMs: number, options?: OaasErrorOptions) {
    super('OAAS_ERR_INVOKE_TIMEOUT', `method ${method} did not finish within ${timeoutMs} ms`, options);
    this.method = method;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The caller stopped reading a streaming `@method` before its end (it broke
 * out of the loop, or the HTTP client went away): the values it did not take
 * are never produced, and the changes since the last `checkpoint()` are
 * rolled back. Recorded as the reason of that rollback; the caller is gone,
 * so nobody receives it.
 */
export class InvocationCancelledError extends OaasError {
  readonly method: string;
  constructor(method: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_INVOKE_CANCELLED', `the caller of ${method} stopped reading its stream before the end`, options);
    this.method = method;
  }
}

/** What a failed commit could not persist. */
export interface UnpersistedObject {
  readonly ref: ObjectIdentity;
  /** The changed fields still pending, or `['<deleted>']` for a pending delete. */
  readonly fields: readonly string[];
}

/** A commit (or a flush of many sessions) failed; nothing listed here was persisted. */
export class CommitError extends OaasError {
  /** The objects whose changes are still pending. */
  readonly unpersisted: readonly UnpersistedObject[];
  /** The individual failures, one per failed session. */
  readonly failures: readonly unknown[];
  constructor(
    message: string,
    detail: { unpersisted: readonly UnpersistedObject[]; failures: readonly unknown[] },
    options?: OaasErrorOptions,
  ) {
    super('OAAS_ERR_COMMIT_FAILED', message, options);
    this.unpersisted = detail.unpersisted;
    this.failures = detail.failures;
  }
}

/** The runtime was shut down; call `configureOaas()` to start a new one. */
export class ShutdownError extends OaasError {
  constructor(message = 'the OaaS runtime is shut down; call configureOaas() to start a new one', options?: OaasErrorOptions) {
    super('OAAS_ERR_RUNTIME_SHUT_DOWN', message, options);
  }
}

/** The store failed. `transient` errors (connection loss, busy database) are retried. */
export class StoreError extends OaasError {
  readonly transient: boolean;
  constructor(message: string, detail: { transient: boolean }, options?: OaasErrorOptions) {
    super('OAAS_ERR_STORE_FAILED', message, options);
    this.transient = detail.transient;
  }
}

/**
 * No class is registered under the requested id, or a class given to the
 * SDK (`create`, `load`, `refFor`, the client, the manual API) is not a
 * registered `@service`.
 */
export class ClassNotFoundError extends OaasError {
  /** The class id asked for; for a class given as such, its name. */
  readonly clsId: string;
  constructor(clsId: string, options?: OaasErrorOptions & { readonly message?: string }) {
    super('OAAS_ERR_CLASS_NOT_FOUND', options?.message ?? `unknown class ${clsId}`, options);
    this.clsId = clsId;
  }

  /** The error for a class (or anything else) given where a registered `@service` class is expected. */
  static forClass(cls: unknown): ClassNotFoundError {
    const name = typeof cls === 'function' ? cls.name : String(cls);
    return new ClassNotFoundError(name, { message: `${name} is not a registered service class; decorate it with @service` });
  }
}

/** The class has no invocable member (a `@method`, `@getter` or `@setter`) of that name. */
export class MethodNotFoundError extends OaasError {
  readonly clsId: string;
  readonly method: string;
  constructor(clsId: string, method: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_METHOD_NOT_FOUND', `class ${clsId} has no invocable method ${method}`, options);
    this.clsId = clsId;
    this.method = method;
  }
}

/**
 * A `@method` threw: the call was rolled back. Carries the thrown error's type
 * and message across the wire (never its stack).
 */
export class ApplicationError extends OaasError {
  /** The name of the error the method threw, e.g. `RangeError`. */
  readonly errorType: string;
  constructor(errorType: string, message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_APP_FAILED', message, options);
    this.errorType = errorType;
  }
}

/** A request body is larger than the server accepts. */
export class PayloadTooLargeError extends OaasError {
  readonly limitBytes: number;
  constructor(limitBytes: number, options?: OaasErrorOptions) {
    super('OAAS_ERR_PAYLOAD_TOO_LARGE', `request body exceeds ${String(limitBytes)} bytes`, options);
    this.limitBytes = limitBytes;
  }
}

/** The server wants a bearer token, and the request had none or a wrong one. */
export class UnauthorizedError extends OaasError {
  constructor(message = 'missing or invalid bearer token', options?: OaasErrorOptions) {
    super('OAAS_ERR_AUTH_REQUIRED', message, options);
  }
}

/** A remote call failed on the way: the server could not be reached, timed out, or answered something that is not an OaaS reply. */
export class RemoteError extends OaasError {
  constructor(message: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_REMOTE_UNREACHABLE', message, options);
  }
}

/** No HTTP route matches the request's method and path. */
export class RouteNotFoundError extends OaasError {
  constructor(method: string, path: string, options?: OaasErrorOptions) {
    super('OAAS_ERR_ROUTE_NOT_FOUND', `no route for ${method} ${path}`, options);
  }
}

/** The server failed in a way it did not anticipate (a bug); the details are in its log, never in the reply. */
export class InternalError extends OaasError {
  constructor(message = 'internal server error', options?: OaasErrorOptions) {
    super('OAAS_ERR_SERVER_INTERNAL', message, options);
  }
}

/** True for errors a retry may cure: conflicts, lock timeouts and transient store failures. */
export function isRetryable(error: unknown): boolean {
  return (
    error instanceof ConflictError ||
    error instanceof LockTimeoutError ||
    (error instanceof StoreError && error.transient)
  );
}
