/**
 * How the server turns failures into replies: every `OaasError` becomes
 * `{ error: { code, message, type? } }` with its code's HTTP status (see
 * `ERROR_CODES`); anything else is a bug on our side and becomes a 500 with
 * a generic message, so no stack or internal detail reaches the caller.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import { InternalError, OaasError, RouteNotFoundError } from '../errors.js';
import { toWireError, type WireError } from '../wire-errors.js';

/** The JSON body of an error reply. */
export interface ErrorBody {
  readonly error: WireError;
}

/** The wire form of any failure: an `OaasError` as it is, anything else as a generic internal error. */
export function wireErrorOf(error: unknown): WireError {
  return toWireError(error instanceof OaasError ? error : new InternalError());
}

/** Builds the reply for an error thrown by a route or a middleware, or for a failure a route reports. */
export function errorReply(c: Context, error: unknown, logger: () => Logger | undefined): Response {
  if (error instanceof OaasError) return reply(c, error);
  logger()?.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed unexpectedly');
  return reply(c, new InternalError());
}

/** The reply for a path no route matches. */
export function notFoundReply(c: Context): Response {
  return reply(c, new RouteNotFoundError(c.req.method, c.req.path));
}

function reply(c: Context, error: OaasError): Response {
  return c.json({ error: toWireError(error) } satisfies ErrorBody, error.status as 400);
}
