/**
 * Failures in the Oparaca dialect, answered as the platform's gateway
 * answers them: `{ "error": { "code", "message" } }` with its codes and
 * statuses (`data-plane/oprc-gateway/src/error.rs`), or plain text where its
 * HTTP framework rejects a request before the gateway sees it (a path or
 * query that does not parse). Failures the platform has no word for (a
 * refused token, a body over the limit, a bug here) keep the SDK's own code
 * in the same body.
 */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import {
  ClassNotFoundError,
  InternalError,
  InvalidArgumentError,
  InvalidIdError,
  OaasError,
  ObjectNotFoundError,
  PayloadTooLargeError,
  RouteNotFoundError,
  SerializationError,
  UnauthorizedError,
} from '../../errors.js';

/** The platform's error codes this dialect answers. `INVALID_PROtobuf` is spelt as the platform spells it. */
export const OPARACA_CODES = {
  invalidObjectId: 'INVALID_OBJECT_ID',
  noObject: 'NO_OBJECT',
  noQueryable: 'NO_QUERYABLE',
  invalidProtobuf: 'INVALID_PROtobuf',
  invalidArgument: 'INVALID_ARGUMENT',
  replyError: 'ZENOH_REPLY_ERR',
  unknown: 'UNKNOWN',
} as const;

/**
 * A reply the dialect's routes decided on, thrown to the error handler. Not
 * an `OaasError`: it never leaves the server as an error, only as this reply.
 */
export class OparacaReply extends Error {
  /** `code` undefined: a plain-text reply, as the platform's framework gives for a request it cannot parse. */
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'OparacaReply';
  }
}

/** `400 INVALID_OBJECT_ID`. */
export function invalidObjectId(detail: string): OparacaReply {
  return new OparacaReply(400, OPARACA_CODES.invalidObjectId, `Invalid object id: ${detail}`);
}

/** `404 NO_OBJECT`, worded as the platform words it. */
export function noObject(clsId: string, partitionId: number, objectId: string): OparacaReply {
  return new OparacaReply(404, OPARACA_CODES.noObject, `No object exists in ${clsId} with partition ${partitionId} and string id ${objectId}`);
}

/** `502 UNKNOWN`: what the platform answers for a body or cursor it cannot read. */
export function unknownError(detail: string): OparacaReply {
  return new OparacaReply(502, OPARACA_CODES.unknown, `Error: ${detail}`);
}

/** `400 INVALID_ARGUMENT`: entries this runtime cannot keep (the platform's status for an invalid argument). */
export function invalidArgument(detail: string): OparacaReply {
  return new OparacaReply(400, OPARACA_CODES.invalidArgument, detail);
}

/** `502 ZENOH_REPLY_ERR`: the data layer refused or failed, as ODGM's error replies reach the platform's gateway. */
export function replyError(detail: string): OparacaReply {
  return new OparacaReply(502, OPARACA_CODES.replyError, `Proxy error: Got reply with error: ${detail}`);
}

/** The reply for a failure of a route or a middleware. */
export function oparacaErrorReply(c: Context, error: unknown, logger: () => Logger | undefined): Response {
  const reply = toReply(error);
  if (reply === undefined) {
    logger()?.error({ err: error, method: c.req.method, path: c.req.path }, 'request failed unexpectedly');
    return send(c, toReply(new InternalError())!);
  }
  return send(c, reply);
}

/** The reply for a path no route matches: the platform's plain `NOT FOUND`. */
export function oparacaNotFound(c: Context): Response {
  return send(c, new OparacaReply(404, undefined, 'NOT FOUND'));
}

function toReply(error: unknown): OparacaReply | undefined {
  if (error instanceof OparacaReply) return error;
  if (!(error instanceof OaasError)) return undefined;
  if (error instanceof InvalidIdError) return invalidObjectId(error.message);
  if (error instanceof ObjectNotFoundError) return noObject(error.ref.clsId, error.ref.partitionId, error.ref.objectId);
  if (error instanceof ClassNotFoundError) return new OparacaReply(404, OPARACA_CODES.noQueryable, `Proxy error: No queryable object found: ${error.message}`);
  if (error instanceof InvalidArgumentError || error instanceof SerializationError) return invalidArgument(error.message);
  // The SDK's own failures with no platform counterpart keep their code.
  if (error instanceof UnauthorizedError || error instanceof PayloadTooLargeError || error instanceof RouteNotFoundError || error instanceof InternalError) {
    return new OparacaReply(error.status, error.code, error.message);
  }
  if (error.kind === 'system' || error.kind === 'conflict') return replyError(error.message);
  return new OparacaReply(error.status, error.code, error.message);
}

function send(c: Context, reply: OparacaReply): Response {
  if (reply.code === undefined) return c.text(reply.message, reply.status as 400);
  return c.body(JSON.stringify({ error: { code: reply.code, message: reply.message } }), reply.status as 400, { 'content-type': 'application/json' });
}
