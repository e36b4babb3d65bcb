/**
 * W3C trace context. A valid `traceparent` request header is echoed on the
 * response; a missing or malformed one is replaced by a new trace (as the W3C
 * spec asks of a receiver), so every reply carries one that logs can be
 * correlated by.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** True for a `traceparent` the W3C format accepts (version `ff` and all-zero ids are invalid). */
export function isTraceparent(value: string): boolean {
  const match = TRACEPARENT.exec(value);
  return match !== null && match[1] !== 'ff' && !/^0+$/.test(match[2]!) && !/^0+$/.test(match[3]!);
}

/** A new `traceparent`: version 00, random trace and parent ids, not sampled. */
export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

/** Sets `traceparent` on every response (the request's when valid, else a new one). */
export function traceContext(): MiddlewareHandler<{ Variables: { traceparent: string } }> {
  return async (c, next) => {
    const given = c.req.header('traceparent')?.trim().toLowerCase();
    const traceparent = given !== undefined && isTraceparent(given) ? given : newTraceparent();
    c.set('traceparent', traceparent);
    c.header('traceparent', traceparent);
    await next();
  };
}
