/**
 * The table of error codes: one row per error class, with its HTTP status
 * and its kind. Codes are never reused for a different meaning.
 */

/**
 * Who is at fault when an error ends an invocation; decides the
 * `ResponseStatus` a failed invocation answers (see `docs/errors.md`):
 * - `request`: the caller's input (a malformed request, an unknown class, method or object);
 * - `application`: the service's own code (a method threw, a declaration is wrong, `new` was used);
 * - `system`: the platform (the store, a lock, shutdown, a commit, configuration, the link to a server);
 * - `conflict`: another writer got there first; the same call on fresh state may succeed.
 */
export type ErrorKind = 'request' | 'application' | 'system' | 'conflict';

/** The table of codes: one row per error class, with the HTTP status it maps to and its {@link ErrorKind}. */
export const ERROR_CODES = {
  OAAS_ERR_CONFIG_INVALID: { status: 500, kind: 'system', error: 'ConfigurationError' },
  OAAS_ERR_ARGUMENT_INVALID: { status: 400, kind: 'request', error: 'InvalidArgumentError' },
  OAAS_ERR_REGISTRY_CONFLICT: { status: 500, kind: 'application', error: 'RegistrationError' },
  OAAS_ERR_ID_INVALID: { status: 400, kind: 'request', error: 'InvalidIdError' },
  OAAS_ERR_STATE_UNSERIALIZABLE: { status: 400, kind: 'application', error: 'SerializationError' },
  OAAS_ERR_OBJECT_NOT_FOUND: { status: 404, kind: 'request', error: 'ObjectNotFoundError' },
  OAAS_ERR_OBJECT_EXISTS: { status: 409, kind: 'application', error: 'AlreadyExistsError' },
  OAAS_ERR_OBJECT_DELETED: { status: 410, kind: 'request', error: 'ObjectDeletedError' },
  OAAS_ERR_OBJECT_DETACHED: { status: 500, kind: 'application', error: 'ObjectDetachedError' },
  OAAS_ERR_OBJECT_BUSY: { status: 409, kind: 'application', error: 'ObjectBusyError' },
  OAAS_ERR_OBJECT_PENDING: { status: 409, kind: 'application', error: 'PendingChangesError' },
  OAAS_ERR_COMMIT_CONFLICT: { status: 409, kind: 'conflict', error: 'ConflictError' },
  OAAS_ERR_COMMIT_FENCED: { status: 503, kind: 'system', error: 'FencedError' },
  OAAS_ERR_NOT_OWNER: { status: 503, kind: 'system', error: 'NotOwnerError' },
  OAAS_ERR_OWNED_ELSEWHERE: { status: 409, kind: 'request', error: 'OwnedElsewhereError' },
  OAAS_ERR_LOCK_TIMEOUT: { status: 503, kind: 'system', error: 'LockTimeoutError' },
  OAAS_ERR_INVOKE_TIMEOUT: { status: 504, kind: 'application', error: 'InvocationTimeoutError' },
  OAAS_ERR_INVOKE_CANCELLED: { status: 499, kind: 'request', error: 'InvocationCancelledError' },
  OAAS_ERR_COMMIT_FAILED: { status: 500, kind: 'system', error: 'CommitError' },
  OAAS_ERR_RUNTIME_SHUT_DOWN: { status: 503, kind: 'system', error: 'ShutdownError' },
  OAAS_ERR_STORE_FAILED: { status: 503, kind: 'system', error: 'StoreError' },
  OAAS_ERR_CLASS_NOT_FOUND: { status: 404, kind: 'request', error: 'ClassNotFoundError' },
  OAAS_ERR_METHOD_NOT_FOUND: { status: 404, kind: 'request', error: 'MethodNotFoundError' },
  OAAS_ERR_APP_FAILED: { status: 422, kind: 'application', error: 'ApplicationError' },
  OAAS_ERR_PAYLOAD_TOO_LARGE: { status: 413, kind: 'request', error: 'PayloadTooLargeError' },
  OAAS_ERR_AUTH_REQUIRED: { status: 401, kind: 'system', error: 'UnauthorizedError' },
  OAAS_ERR_REMOTE_UNREACHABLE: { status: 502, kind: 'system', error: 'RemoteError' },
  OAAS_ERR_ROUTE_NOT_FOUND: { status: 404, kind: 'request', error: 'RouteNotFoundError' },
  OAAS_ERR_SERVER_INTERNAL: { status: 500, kind: 'system', error: 'InternalError' },
} as const satisfies Record<string, { status: number; kind: ErrorKind; error: string }>;

/** A stable error code, `OAAS_ERR_<AREA>_<WHAT>`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The kind of a code; `undefined` for a string that is not a code of this release. */
export function kindOf(code: string): ErrorKind | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode].kind : undefined;
}

/** Every code of one kind, in table order. */
export function codesOfKind(kind: ErrorKind): ErrorCode[] {
  return (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].kind === kind);
}

