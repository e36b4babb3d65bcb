/**
 * A gateway dialect: how the HTTP routes read requests and shape replies.
 * Both dialects serve the same paths over the same {@link Gateway}; the app
 * (`app.ts`) owns what they share (trace context, the token, the body limit,
 * one async context per request, `/metrics`) and hands the rest to one.
 */
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { ConfigurationError } from '../errors.js';
import { describeValue } from '../describe.js';
import type { Gateway } from '../invocation/gateway.js';
import type { Runtime } from '../runtime/runtime.js';
import type { TraceContext } from './trace.js';

/**
 * `oaas`: the SDK's own (JSON bodies, its error codes, what the typed client
 * speaks); `oparaca`: the Oparaca platform gateway's, for Oparaca clients.
 */
export type DialectName = 'oaas' | 'oparaca';

/** The dialect names, as options and `OAAS_GATEWAY_DIALECT` accept them. */
export const DIALECT_NAMES: readonly DialectName[] = ['oaas', 'oparaca'];

/** What the routes need from a gateway (a {@link Gateway}, or a stand-in in tests). */
export type GatewayLike = Pick<Gateway, 'invoke' | 'getState' | 'putState' | 'deleteObject' | 'list' | 'ready' | 'classOf'>;

/** The hono environment of the app: the request's trace context. */
export type AppEnv = { Variables: { trace: TraceContext | undefined } };

/** What a dialect's routes work with. */
export interface DialectContext {
  readonly gateway: GatewayLike;
  readonly runtime: () => Runtime;
  readonly logger: () => Logger | undefined;
}

/** One dialect. */
export interface Dialect {
  readonly name: DialectName;
  /** Headers every reply carries (set before anything else runs, so error replies carry them too). */
  readonly replyHeaders: Readonly<Record<string, string>>;
  /** Registers the health routes, the `/api` routes, and the error and not-found replies. */
  install(app: Hono<AppEnv>, context: DialectContext): void;
}

/**
 * The dialect a server speaks: the option when given, else
 * `OAAS_GATEWAY_DIALECT`, else `oparaca` when the Oparaca platform's
 * environment is present (`ODGM_SERVICE` is set), else `oaas`.
 */
export function resolveDialect(option: unknown, env: Readonly<Record<string, string | undefined>> = process.env): DialectName {
  if (option !== undefined) {
    if (typeof option !== 'string' || !(DIALECT_NAMES as readonly string[]).includes(option)) {
      throw new ConfigurationError('dialect', `expected ${DIALECT_NAMES.map((n) => `'${n}'`).join(' or ')}, got ${describeValue(option)}`);
    }
    return option as DialectName;
  }
  const raw = env.OAAS_GATEWAY_DIALECT;
  if (raw !== undefined && raw.trim() !== '') {
    const name = raw.trim().toLowerCase();
    if (!(DIALECT_NAMES as readonly string[]).includes(name)) {
      throw new ConfigurationError('dialect (OAAS_GATEWAY_DIALECT)', `expected ${DIALECT_NAMES.join(' or ')}, got ${JSON.stringify(raw)}`);
    }
    return name as DialectName;
  }
  const odgm = env.ODGM_SERVICE;
  return odgm !== undefined && odgm.trim() !== '' ? 'oparaca' : 'oaas';
}
