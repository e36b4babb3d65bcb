/**
 * Bearer-token check for the API routes. The comparison takes the same time
 * whatever the token, so response timing does not reveal how much of a guess
 * was right.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { UnauthorizedError } from '../errors.js';

/** Compares two secrets in constant time (digests first, so lengths do not leak either). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Rejects requests without `Authorization: Bearer <token>` with `UnauthorizedError` (401). */
export function bearerAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match === null || !sameSecret(match[1]!, token)) {
      c.header('WWW-Authenticate', 'Bearer realm="oaas"');
      throw new UnauthorizedError();
    }
    await next();
  };
}
