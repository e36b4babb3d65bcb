/**
 * How the server turns failures into replies: every `OaasError` becomes
 * `{ error: { code, message, type? } }` with its code's HTTP status (see
 * `ERROR_CODES`); anything else is a bug on our side and becomes a 500 with
 * a generic message, so no stack or internal detail reaches the caller.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { ERROR_CODES, InternalError, OaasError, RouteNotFoundError, toWireError, type WireError } from '../errors.js';


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
  return toWireError(error instanceof OaasError ? error : new InternalError());
}

/** Builds the reply for an error thrown by a route or a middleware. */
export function errorReply(c: Context, error: unknown, logger: () => Logger | undefined): Response {
  if (error instanceof OaasError) return c.json({ error: toWireError(error) } satisfies ErrorBody, statusOf(error) as 400);
  logger()?.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed unexpectedly');
  return c.json({ error: wireErrorOf(error) } satisfies ErrorBody, 500);
}

/** The reply for a path no route matches. */
export function notFoundReply(c: Context): Response {
  const body: ErrorBody = { error: toWireError(new RouteNotFoundError(c.req.method, c.req.path)) };
  return c.json(body, 404);
}
