/**
 * How the server turns failures into replies: every `OaasError` becomes
 * `{ error: { code, message, type? } }` with its code's HTTP status (see
 * `ERROR_CODES`); anything else is a bug on our side and becomes a 500 with
 * a generic message, so no stack or internal detail reaches the caller.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { ERROR_CODES, OaasError, toWireError, type WireError } from '../errors.js';

/**
 * Codes only the HTTP layer produces. They are not `OaasError` classes (no
 * code path in the SDK raises them), so a client rebuilds them as
 * `RemoteError`. They belong in `ERROR_CODES` once the table grows rows for them.
 */
export const HTTP_ONLY_CODES = {
  /** No route matches the method and path. */
  routeNotFound: 'OAAS_ERR_ROUTE_NOT_FOUND',
  /** The server failed in a way it did not anticipate (a bug); details are in its log. */
  internal: 'OAAS_ERR_INTERNAL',
} as const;

/** The JSON body of an error reply. */
export interface ErrorBody {
  readonly error: WireError;
}

/** The HTTP status of an `OaasError`. */
export function statusOf(error: OaasError): number {
  return ERROR_CODES[error.code].status;
}

/** The wire form of any failure: an `OaasError` as it is, anything else as a generic internal error. */
export function wireErrorOf(error: unknown): WireError {
  return error instanceof OaasError ? toWireError(error) : { code: HTTP_ONLY_CODES.internal, message: 'internal server error' };
}

/** Builds the reply for an error thrown by a route or a middleware. */
export function errorReply(c: Context, error: unknown, logger: () => Logger | undefined): Response {
  if (error instanceof OaasError) return c.json({ error: toWireError(error) } satisfies ErrorBody, statusOf(error) as 400);
  logger()?.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed unexpectedly');
  return c.json({ error: wireErrorOf(error) } satisfies ErrorBody, 500);
}

/** The reply for a path no route matches. */
export function notFoundReply(c: Context): Response {
  const body: ErrorBody = { error: { code: HTTP_ONLY_CODES.routeNotFound, message: `no route for ${c.req.method} ${c.req.path}` } };
  return c.json(body, 404);
}
