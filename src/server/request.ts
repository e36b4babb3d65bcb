/** What both dialects read off a request the same way. */
import type { Context } from 'hono';
import { InvalidArgumentError } from '../errors.js';
import type { AppEnv } from './dialect.js';

/**
 * The invocation options of a request, as the Oparaca gateway builds them:
 * its `accept` and `content-type` headers, and its `traceparent` when valid.
 */
export function invocationOptions(c: Context<AppEnv>): Record<string, string> {
  const options: Record<string, string> = {};
  const accept = c.req.header('accept');
  const contentType = c.req.header('content-type');
  if (accept !== undefined) options.accept = accept;
  if (contentType !== undefined) options['content-type'] = contentType;
  const trace = c.get('trace');
  if (trace !== undefined) options.traceparent = trace.traceparent;
  return options;
}

/**
 * Refuses JSON carrying `__proto__` keys or `constructor.prototype` (as
 * fastify does): merged into an object by application code, they would
 * change prototypes instead of data. Only bodies that could hold such a key
 * (directly or \u-escaped) pay for the second parse.
 */
export function checkJsonSafety(text: string): void {
  if (!text.includes('__proto__') && !text.includes('constructor') && !text.includes('\\u')) return;
  try {
    JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (key === '__proto__') throw new InvalidArgumentError('body', 'a __proto__ key is not allowed');
      if (key === 'constructor' && typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, 'prototype')) {
        throw new InvalidArgumentError('body', 'a constructor.prototype key is not allowed');
      }
      return value;
    });
  } catch (error) {
    // Malformed JSON is the gateway's to report, with its own message.
    if (error instanceof InvalidArgumentError) throw error;
  }
}
