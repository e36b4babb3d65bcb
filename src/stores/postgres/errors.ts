/**
 * How node-postgres's errors become the SDK's own, at the PostgreSQL backend's boundary.
 */
import { OaasError, StoreError } from '../../errors.js';

/** Socket errors that mean the server could not be reached or the connection broke: a later try may work. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs a retry may cure: the server is shutting down or starting
 * (57P01-57P03), too many connections (53300), a statement or lock timeout
 * (57014, 55P03), a transaction cut off for idling (25P03: the process was
 * paused mid-batch; a fenced batch retried after a takeover is refused by its
 * fence), and serialization failures or deadlocks where they are not turned
 * into conflicts (40001, 40P01). Class 08 (connection exception) is matched
 * as a whole.
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '55P03', '25P03', '40001', '40P01']);

/**
 * node-postgres reports some connection failures as plain errors without a
 * code: a dropped socket, a connect timeout, the pool's wait for a free
 * client, a client already broken. Their messages are all it gives.
 */
const TRANSIENT_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|connection timeout|Query read timeout|not queryable/i;

/** The SQLSTATE of an error the server sent, or `undefined` for any other error. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  // pg's DatabaseError carries the server's severity beside the code; socket errors have a code but no severity.
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && typeof severity === 'string' ? code : undefined;
}

/** A serialization failure or a deadlock: another transaction won, so the batch is a conflict, not a failure. */
export function isSerializationFailure(error: unknown): boolean {
  const state = sqlState(error);
  return state === '40001' || state === '40P01';
}

/** True when `error` says the server was unreachable, went away, or ran out of time: worth a retry. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const state = sqlState(error);
  if (state !== undefined) return TRANSIENT_SQLSTATES.has(state) || state.startsWith('08');
  const { code } = error as { code?: unknown };
  if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return true;
  // Node reports a failed connect to every address of a host name (localhost: ::1 and 127.0.0.1) as one AggregateError.
  if (error instanceof AggregateError && error.errors.some(isTransient)) return true;
  return TRANSIENT_MESSAGES.test(error.message);
}

/**
 * Turns whatever a pg call threw into a `StoreError`, transient when a retry
 * may succeed (see {@link isTransient}). Errors the SDK raised itself
 * (conflicts, bad arguments, a closed store) pass through unchanged. The
 * message names the operation and the SQLSTATE or socket code, never the
 * connection string (it may hold a password).
 */
export function translateError(operation: string, error: unknown): Error {
  if (error instanceof OaasError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return new StoreError(
    `postgres ${operation} failed: ${reason(error)}${typeof code === 'string' ? ` (${code})` : ''}`,
    { transient: isTransient(error) },
    { cause: error },
  );
}

function reason(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map((inner) => (inner instanceof Error ? inner.message : String(inner))).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}
