/**
 * How ioredis's errors become the SDK's own, at the Redis backend's boundary.
 */
import { OaasError, StoreError } from '../../errors.js';

/**
 * Reply codes a retry may cure: the server is loading its data set, is a
 * replica (a failover is under way), its cluster is down or resharding, a
 * script is hogging it, or a replica lost its primary.
 */
const TRANSIENT_REPLIES = /(?:^|-)(LOADING|READONLY|CLUSTERDOWN|TRYAGAIN|BUSY|MASTERDOWN)\b/;

/** Socket errors of a connection that went away or never came up. */
const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EAI_AGAIN',
]);

/** Messages ioredis uses for a closed or not-yet-reconnected connection and for its own timeouts. */
const TRANSIENT_CLIENT_MESSAGES = ['Connection is closed.', "Stream isn't writeable", 'Command timed out', 'Reached the max retries per request limit'];

/**
 * True when `error` means the server was unreachable, restarting or busy, so
 * the same call may succeed later. A timed-out write is ambiguous: it may
 * still have been applied, which the caller's expected versions detect.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ReplyError') return TRANSIENT_REPLIES.test(error.message);
  if (error.name === 'MaxRetriesPerRequestError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && TRANSIENT_SOCKET_CODES.has(code)) return true;
  return TRANSIENT_CLIENT_MESSAGES.some((message) => error.message.startsWith(message));
}

/** A reply the backend cannot read: a bug, or keys another program wrote. A retry would meet it again. */
export function unexpectedReply(what: string): StoreError {
  return new StoreError(`redis: unexpected ${what}`, { transient: false });
}

/** The connection ended (closed by `quit()`, or given up on) while a call waited for it; a new connection may succeed. */
export function connectionClosed(): StoreError {
  return new StoreError('redis connect failed: the connection is closed', { transient: true });
}

/**
 * Turns whatever an ioredis call threw into a `StoreError` naming the
 * operation, keeping the original as `cause`. Errors the SDK raised itself
 * (conflicts, bad arguments, a closed store) pass through unchanged.
 */
export function translateError(operation: string, error: unknown): Error {
  if (error instanceof OaasError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(`redis ${operation} failed: ${reason}`, { transient: isTransient(error) }, { cause: error });
}
