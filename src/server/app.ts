/**
 * The HTTP API over every registered service class, as a hono app: testable
 * in process with `app.request()`, served on a socket by `serve()`.
 *
 * The routes only translate HTTP to {@link Gateway} calls and back, in one of
 * two dialects (`dialect.ts`); the semantics (one session per request,
 * commit before the reply, conflict retries, idempotency records,
 * validation) live in the gateway.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { checkKnownOptions } from '../config.js';
import { runWithSlot } from '../session/async-context.js';
import { ConfigurationError, PayloadTooLargeError } from '../errors.js';
import { Gateway } from '../invocation/gateway.js';
import { getAutoSessionManager } from '../runtime/process-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { bearerAuth } from './auth.js';
import { resolveDialect, type AppEnv, type Dialect, type DialectName, type GatewayLike } from './dialect.js';
import { oaasDialect } from './oaas-dialect.js';
import { oparacaDialect } from './oparaca/dialect.js';
import { traceContext } from './trace.js';
import { eventRoutes } from './event-routes.js';

export type { DialectName, GatewayLike };

/** Options of {@link createApp}. */
export interface ServerOptions {
  /**
   * A bearer token every `/api` request must carry (`Authorization: Bearer <token>`);
   * the health routes stay open. @default no token: anyone who can reach the port may call
   */
  token?: string | undefined;
  /** The largest request body accepted, in bytes; larger ones get 413. @default 1048576 (1 MiB) */
  bodyLimitBytes?: number | undefined;
  /**
   * The runtime the routes serve (objects, `/metrics`, logs): a function, so
   * it is looked up per request. @default the process-wide runtime (`configureOaas`)
   */
  runtime?: (() => Runtime) | undefined;
  /** The gateway the routes call. @default new Gateway(runtime, { conflictRetries }) */
  gateway?: GatewayLike | undefined;
  /** How many times an invocation re-runs after a `ConflictError` at its commit (default gateway only). @default 3 */
  conflictRetries?: number | undefined;
  /** Where unexpected failures are logged. @default the runtime's logger */
  logger?: Logger | undefined;
  /**
   * How requests are read and replies shaped: `'oaas'`, the SDK's own (what
   * the typed client speaks), or `'oparaca'`, the Oparaca platform gateway's
   * (protobuf `ObjData`, raw payloads, its error codes; see docs/oparaca.md).
   * @default OAAS_GATEWAY_DIALECT, else 'oparaca' when ODGM_SERVICE is set, else 'oaas'
   * @example createApp({ dialect: 'oparaca' })
   */
  dialect?: DialectName | undefined;
}

/** @default 1 MiB */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

const DIALECTS: Readonly<Record<DialectName, Dialect>> = { oaas: oaasDialect, oparaca: oparacaDialect };

/**
 * Builds the HTTP app. Routes (in the default dialect, JSON bodies):
 * - `POST /api/class/{cls}/{partition}/objects/{id}/invokes/{method}`: invoke (SSE for `async *` methods)
 * - `POST /api/class/{cls}/{partition}/invokes/{method}`: invoke a stateless method
 * - `GET | PUT | DELETE /api/class/{cls}/{partition}/objects/{id}`: object state
 * - `GET /api/class/{cls}/{partition}/objects?prefix=&limit=&cursor=`: list
 * - `GET /api/class/{cls}/{partition}/objects/{id}/events`, `GET /api/class/{cls}/{partition}/events`: change events (SSE)
 * - `GET /health`, `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus text)
 *
 * @example
 * const app = createApp({ token: process.env.API_TOKEN });
 * const res = await app.request('/api/class/default.Counter/0/objects/c1/invokes/increment', { method: 'POST', body: '2' });
 */
export function createApp(options: ServerOptions = {}): Hono<AppEnv> {
  checkOptions(options);
  const dialect = DIALECTS[resolveDialect(options.dialect)];
  const runtime: () => Runtime = options.runtime ?? getAutoSessionManager;
  const gateway = options.gateway ?? new Gateway(runtime, { conflictRetries: options.conflictRetries });
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const logger = (): Logger | undefined => options.logger ?? runtimeLogger(runtime);
  const app = new Hono<AppEnv>();

  const replyHeaders = Object.entries(dialect.replyHeaders);
  if (replyHeaders.length > 0) {
    app.use('*', async (c, next) => {
      for (const [name, value] of replyHeaders) c.header(name, value);
      await next();
    });
  }
  app.use('*', traceContext());

  // Prometheus text exposition of the runtime's figures (behind the token when one is set).
  if (options.token !== undefined) app.use('/metrics', bearerAuth(options.token));
  app.get('/metrics', async (c) => c.text(await runtime().metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));

  // Each request gets its own async context, so no session bound while serving one request leaks into another.
  app.use('/api/*', (_c, next) => runWithSlot({ sessions: new Map() }, next));
  if (options.token !== undefined) app.use('/api/*', bearerAuth(options.token));
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new PayloadTooLargeError(limit);
      },
    }),
  );

  // Change events: the SDK's own routes, in both dialects.
  eventRoutes(app, runtime);
  dialect.install(app, { gateway, runtime, logger });
  return app;
}

/** The option names {@link createApp} reads (and `serve()` passes on). */
export const SERVER_OPTIONS: ReadonlySet<string> = new Set(['token', 'bodyLimitBytes', 'runtime', 'gateway', 'conflictRetries', 'logger', 'dialect']);

function checkOptions(options: ServerOptions): void {
  if (typeof options !== 'object' || (options as unknown) === null) throw new ConfigurationError('options', 'expected an object');
  checkKnownOptions(options, SERVER_OPTIONS);
  const { token, bodyLimitBytes, conflictRetries, runtime } = options;
  if (runtime !== undefined && typeof runtime !== 'function') throw new ConfigurationError('runtime', 'expected a function that returns the runtime');
  if (token !== undefined && (typeof token !== 'string' || token === '' || /\s/.test(token))) {
    throw new ConfigurationError('token', 'expected a non-empty token without spaces');
  }
  if (bodyLimitBytes !== undefined && (typeof bodyLimitBytes !== 'number' || !Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 1)) {
    throw new ConfigurationError('bodyLimitBytes', 'expected a positive integer');
  }
  if (conflictRetries !== undefined && (typeof conflictRetries !== 'number' || !Number.isSafeInteger(conflictRetries) || conflictRetries < 0)) {
    throw new ConfigurationError('conflictRetries', 'expected a non-negative integer');
  }
}

/** The runtime's logger, if a runtime can be had (never creates trouble on the error path). */
function runtimeLogger(runtime: () => Runtime): Logger | undefined {
  try {
    return runtime().logger;
  } catch {
    return undefined;
  }
}
