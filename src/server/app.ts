/**
 * The HTTP API over every registered service class, as a hono app: testable
 * in process with `app.request()`, served on a socket by `serve()`.
 *
 * The routes only translate HTTP to {@link Gateway} calls and back; the
 * semantics (one session per request, commit before the reply, conflict
 * retries, idempotency records, validation) live in the gateway.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from 'pino';
import { checkKnownOptions } from '../config.js';
import { sessionContext } from '../session/async-context.js';
import { ConfigurationError, InvalidArgumentError, PayloadTooLargeError, StoreError } from '../errors.js';
import { Gateway } from '../invocation/gateway.js';
import type { ObjectState } from '../protocol/wire.js';
import { getAutoSessionManager } from '../runtime/process-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { bearerAuth } from './auth.js';
import { atOwner, peerRoutes } from './cluster-routes.js';
import { errorReply, notFoundReply } from './errors.js';
import { eventRoutes } from './event-routes.js';
import { sseReply } from './sse.js';
import { traceContext, type TraceContext } from './trace.js';

/** What the routes need from a gateway (a {@link Gateway}, or a stand-in in tests). */
export type GatewayLike = Pick<Gateway, 'invoke' | 'getState' | 'putState' | 'deleteObject' | 'list' | 'ready'>;

/** Options of {@link createApp}. */
export interface ServerOptions {
  /**
   * A bearer token every `/api` request must carry (`Authorization: Bearer <token>`);
   * `/healthz` and `/readyz` stay open. @default no token: anyone who can reach the port may call
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
}

/** @default 1 MiB */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

type Env = { Variables: { trace: TraceContext | undefined } };

/**
 * Builds the HTTP app. Routes (JSON bodies):
 * - `POST /api/class/{cls}/{partition}/objects/{id}/invokes/{method}`: invoke (SSE for `async *` methods)
 * - `POST /api/class/{cls}/{partition}/invokes/{method}`: invoke a stateless method
 * - `GET | PUT | DELETE /api/class/{cls}/{partition}/objects/{id}`: object state
 * - `GET /api/class/{cls}/{partition}/objects?prefix=&limit=&cursor=`: list
 * - `GET /api/class/{cls}/{partition}/objects/{id}/events`, `GET /api/class/{cls}/{partition}/events`: change events (SSE)
 * - `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus text)
 *
 * @example
 * const app = createApp({ token: process.env.API_TOKEN });
 * const res = await app.request('/api/class/default.Counter/0/objects/c1/invokes/increment', { method: 'POST', body: '2' });
 */
export function createApp(options: ServerOptions = {}): Hono<Env> {
  checkOptions(options);
  const runtime: () => Runtime = options.runtime ?? getAutoSessionManager;
  const gateway = options.gateway ?? new Gateway(runtime, { conflictRetries: options.conflictRetries });
  const limit = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const logger = (): Logger | undefined => options.logger ?? runtimeLogger(runtime);
  const app = new Hono<Env>();

  app.onError((error, c) => errorReply(c, error, logger));
  app.notFound((c) => notFoundReply(c));
  app.use('*', traceContext());

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const ready = await gateway.ready().catch(() => false);
    if (ready) return c.json({ status: 'ready' });
    return errorReply(c, new StoreError('the store is not reachable or the runtime is shut down', { transient: true }), logger);
  });

  // Prometheus text exposition of the runtime's figures (behind the token when one is set).
  if (options.token !== undefined) app.use('/metrics', bearerAuth(options.token));
  app.get('/metrics', async (c) => c.text(await runtime().metricsText(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }));

  // Each request gets its own async context, so no session bound while serving one request leaks into another.
  app.use('/api/*', (_c, next) => sessionContext.run({ sessions: new Map() }, next));
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

  const base = '/api/class/:cls/:partition';
  // Cluster mode: a request about an object another member owns is answered by that member (atOwner).
  peerRoutes(app, runtime, gateway);
  eventRoutes(app, runtime);

  app.post(`${base}/objects/:id/invokes/:method`, async (c) => {
    const { cls, partition, id, method } = c.req.param();
    return atOwner(c, runtime, () => invokeReply(c, gateway, { clsId: cls, partitionId: partitionParam(partition), objectId: id, method }, logger));
  });

  app.post(`${base}/invokes/:method`, async (c) => {
    const { cls, partition, method } = c.req.param();
    return invokeReply(c, gateway, { clsId: cls, partitionId: partitionParam(partition), method }, logger);
  });

  app.get(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    return atOwner(c, runtime, async () => c.json(await gateway.getState(cls, partitionParam(partition), id)));
  });

  app.put(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    return atOwner(c, runtime, async () => {
      const body = parseJson(await c.req.text());
      checkMetadata(body, { cls_id: cls, partition_id: partitionParam(partition), object_id: id });
      return c.json(await gateway.putState(cls, partitionParam(partition), id, body));
    });
  });

  app.delete(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    return atOwner(c, runtime, async () => {
      await gateway.deleteObject(cls, partitionParam(partition), id);
      return c.body(null, 204);
    });
  });

  app.get(`${base}/objects`, async (c) => {
    const { cls, partition } = c.req.param();
    return c.json(await gateway.list(cls, partitionParam(partition), { prefix: c.req.query('prefix'), limit: c.req.query('limit'), cursor: c.req.query('cursor') }));
  });

  return app;
}

async function invokeReply(
  c: Context<Env>,
  gateway: GatewayLike,
  target: { clsId: string; partitionId: unknown; objectId?: string; method: string },
  logger: () => Logger | undefined,
): Promise<Response> {
  const body = await c.req.text();
  checkJsonSafety(body);
  const trace = c.get('trace');
  const outcome = await gateway.invoke({
    ...target,
    body,
    idempotencyKey: c.req.header('idempotency-key'),
    traceparent: trace?.traceparent,
    tracestate: trace?.tracestate,
  });
  if (outcome.kind === 'stream') return sseReply(c, outcome.stream, logger);
  // `undefined` has no JSON: it goes out as `null`, which is also what an idempotent replay of it returns.
  return c.body(JSON.stringify(outcome.value ?? null), 200, { 'content-type': 'application/json; charset=utf-8' });
}

/** Path partitions are decimal integers; anything else goes to the gateway as text, which refuses it with a 400. */
function partitionParam(raw: string): unknown {
  return /^(0|[1-9][0-9]{0,9})$/.test(raw) ? Number(raw) : raw;
}

function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError('body', `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  checkJsonSafety(text);
  return value;
}

/**
 * Refuses JSON carrying `__proto__` keys or `constructor.prototype` (as
 * fastify does): merged into an object by application code, they would
 * change prototypes instead of data. Only bodies that could hold such a key
 * (directly or \u-escaped) pay for the second parse.
 */
function checkJsonSafety(text: string): void {
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

/** A PUT body may repeat the object's `metadata` (as GET returns it); if it does, it must name the same object. */
function checkMetadata(body: unknown, path: { cls_id: string; partition_id: unknown; object_id: string }): void {
  if (typeof body !== 'object' || body === null || !Object.prototype.hasOwnProperty.call(body, 'metadata')) return;
  const metadata = (body as { metadata: unknown }).metadata;
  if (metadata === undefined) return;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new InvalidArgumentError('metadata', 'expected an object');
  const given = metadata as Partial<ObjectState['metadata']>;
  for (const field of ['cls_id', 'partition_id', 'object_id'] as const) {
    const value = Object.prototype.hasOwnProperty.call(given, field) ? given[field] : undefined;
    if (value !== undefined && value !== path[field]) {
      throw new InvalidArgumentError('metadata', `${field} ${JSON.stringify(value)} does not match the path (${JSON.stringify(path[field])})`);
    }
  }
}

/** The option names {@link createApp} reads (and `serve()` passes on). */
export const SERVER_OPTIONS: ReadonlySet<string> = new Set(['token', 'bodyLimitBytes', 'runtime', 'gateway', 'conflictRetries', 'logger']);

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
