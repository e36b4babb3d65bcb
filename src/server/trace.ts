/**
 * W3C trace context. A valid `traceparent` request header (with its
 * `tracestate`) is handed to the invocation, whose span continues the
 * caller's trace, and is echoed on the response. A missing or malformed one
 * is not replaced by a made-up header: the invocation's span then starts a
 * trace of its own, and a header naming a parent span that does not exist
 * would only mislead.
 */
import type { MiddlewareHandler } from 'hono';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** True for a `traceparent` the W3C format accepts (version `ff` and all-zero ids are invalid). */
export function isTraceparent(value: string): boolean {
  const match = TRACEPARENT.exec(value);
  return match !== null && match[1] !== 'ff' && !/^0+$/.test(match[2]!) && !/^0+$/.test(match[3]!);
}

/** The request's trace context, when it has a valid one. */
export interface TraceContext {
  readonly traceparent: string;
  readonly tracestate: string | undefined;
}

/** Reads the trace context of each request into `c.var.trace` and echoes a valid `traceparent`. */
export function traceContext(): MiddlewareHandler<{ Variables: { trace: TraceContext | undefined } }> {
  return async (c, next) => {
    const given = c.req.header('traceparent')?.trim().toLowerCase();
    if (given !== undefined && isTraceparent(given)) {
      const tracestate = c.req.header('tracestate')?.trim();
      c.set('trace', { traceparent: given, tracestate: tracestate === '' ? undefined : tracestate });
      c.header('traceparent', given);
    } else {
      c.set('trace', undefined);
    }
    await next();
  };
}
