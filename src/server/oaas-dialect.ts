/**
 * The SDK's own dialect (the default, what the typed client speaks): JSON
 * bodies, replies in JSON, failures as `{ error: { code, message } }` with
 * the code's HTTP status, SSE for streaming methods.
 */
import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import { InvalidArgumentError, StoreError } from '../errors.js';
import { bindStream, createInvocationContext, runInInvocation } from '../invocation/invocation-context.js';
import type { ObjectState } from '../protocol/wire.js';
import { atOwner, peerRoutes } from './cluster-routes.js';
import type { AppEnv, Dialect, DialectContext, GatewayLike } from './dialect.js';
import { errorReply, notFoundReply } from './errors.js';
import { checkJsonSafety, invocationOptions } from './request.js';
import { sseReply } from './sse.js';

/** The default dialect. */
export const oaasDialect: Dialect = {
  name: 'oaas',
  replyHeaders: {},
  install(app, context) {
    const { gateway, runtime, logger } = context;
    app.onError((error, c) => errorReply(c, error, logger));
    app.notFound((c) => notFoundReply(c));

    const healthy = (c: Context): Response => c.json({ status: 'ok' });
    app.get('/health', healthy);
    app.get('/healthz', healthy);
    app.get('/readyz', async (c) => {
      const ready = await gateway.ready().catch(() => false);
      if (ready) return c.json({ status: 'ready' });
      return errorReply(c, new StoreError('the store is not reachable or the runtime is shut down', { transient: true }), logger);
    });

    // Cluster mode: a request about an object another member owns is answered by that member (atOwner).
    peerRoutes(app, runtime, gateway);
    apiRoutes(app, context);
  },
};

function apiRoutes(app: Hono<AppEnv>, { gateway, runtime, logger }: DialectContext): void {
  const base = '/api/class/:cls/:partition';

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
      const body = parseStateJson(await c.req.text(), c.req.header('content-type'));
      checkMetadata(body, { cls_id: cls, partition_id: partitionParam(partition), object_id: id });
      checkNotObjData(body);
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
}

async function invokeReply(
  c: Context<AppEnv>,
  gateway: GatewayLike,
  target: { clsId: string; partitionId: unknown; objectId?: string; method: string },
  logger: () => Logger | undefined,
): Promise<Response> {
  const body = await c.req.text();
  checkJsonSafety(body);
  const trace = c.get('trace');
  const invocation = createInvocationContext(invocationOptions(c));
  const outcome = await runInInvocation(invocation, () =>
    gateway.invoke({
      ...target,
      body,
      idempotencyKey: c.req.header('idempotency-key'),
      traceparent: trace?.traceparent,
      tracestate: trace?.tracestate,
    }),
  );
  if (outcome.kind === 'stream') return sseReply(c, bindStream(invocation, outcome.stream), logger);
  // `undefined` has no JSON: it goes out as `null`, which is also what an idempotent replay of it returns.
  return c.body(JSON.stringify(outcome.value ?? null), 200, { 'content-type': 'application/json; charset=utf-8' });
}

/** Path partitions are decimal integers; anything else goes to the gateway as text, which refuses it with a 400. */
function partitionParam(raw: string): unknown {
  return /^(0|[1-9][0-9]{0,9})$/.test(raw) ? Number(raw) : raw;
}

function parseStateJson(text: string, contentType: string | undefined): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // A protobuf ObjData is what an Oparaca client sends by default: say which dialect this server speaks.
    const hint = /^application\/(x-protobuf|octet-stream)/i.test(contentType ?? '') ? ` (${OTHER_DIALECT})` : '';
    throw new InvalidArgumentError('body', `not valid JSON: ${(error as Error).message}${hint}`, { cause: error });
  }
  checkJsonSafety(text);
  return value;
}

const OTHER_DIALECT =
  "this server speaks the SDK's own dialect, where entries are plain field values; an Oparaca ObjData body needs a server started with dialect 'oparaca'";

/**
 * Refuses a body shaped like the Oparaca platform's `ObjData` JSON (entries
 * of `{ data: <base64>, type: <number> }`): stored as it is, each would
 * replace the field's value with that wrapper. A field whose own value has
 * this shape can still be put in the codec's escaped form, `{ "$t": "o", "v": {...} }`.
 */
function checkNotObjData(body: unknown): void {
  if (typeof body !== 'object' || body === null) return;
  const entries = (body as { entries?: unknown }).entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return;
  for (const [key, value] of Object.entries(entries as Record<string, unknown>)) {
    if (isValDataShape(value)) throw new InvalidArgumentError('entries', `${key} is an Oparaca ValData ({ data, type }), not a field value: ${OTHER_DIALECT}`);
  }
}

function isValDataShape(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const { data, type } = value as Record<string, unknown>;
  return keys.length === 2 && typeof data === 'string' && STANDARD_BASE64.test(data) && typeof type === 'number';
}

const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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
