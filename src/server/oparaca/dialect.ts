/**
 * The Oparaca dialect: the routes answer as the Oparaca platform's gateway
 * (`data-plane/oprc-gateway/src/handler/rest.rs`) does, so Oparaca clients
 * and tools work against an SDK server. See docs/oparaca.md for the table
 * of differences with the SDK's own dialect.
 */
import type { Hono } from 'hono';
import { InvalidArgumentError, ObjectNotFoundError } from '../../errors.js';
import { encodeCursor } from '../../stores/validate.js';
import { encodeObjData, objDataToJson } from '../../protocol/oprc/obj-data.js';
import { DIALECT_HEADER } from '../../protocol/wire.js';
import { atOwner, peerRoutes } from '../cluster-routes.js';
import type { AppEnv, Dialect, DialectContext } from '../dialect.js';
import { noObject, oparacaErrorReply, oparacaNotFound, unknownError } from './errors.js';
import { invokeReply } from './invoke.js';
import { listQuery, objectIdParam, partitionParam } from './path.js';
import { objDataOf, readObjData, stateEntriesOf } from './state.js';

/** The Oparaca dialect. */
export const oparacaDialect: Dialect = {
  name: 'oparaca',
  replyHeaders: { [DIALECT_HEADER]: 'oparaca' },
  install(app, context) {
    const { gateway, runtime, logger } = context;
    app.onError((error, c) => oparacaErrorReply(c, error, logger));
    app.notFound((c) => oparacaNotFound(c));

    app.get('/health', (c) => c.text('ok'));
    app.get('/healthz', (c) => c.text('ok'));
    // The platform's gateway is always ready; this one is ready while its store answers.
    app.get('/readyz', async (c) => ((await gateway.ready().catch(() => false)) ? c.text('ready') : c.text('not ready', 503)));

    peerRoutes(app, runtime, gateway);
    apiRoutes(app, context);
  },
};

function apiRoutes(app: Hono<AppEnv>, { gateway, runtime }: DialectContext): void {
  const base = '/api/class/:cls/:partition';

  app.post(`${base}/objects/:id/invokes/:method`, async (c) => {
    const { cls, partition, id, method } = c.req.param();
    const partitionId = partitionParam(partition, 'u16');
    const objectId = objectIdParam(id);
    return atOwner(c, runtime, () => invokeReply(c, gateway, { clsId: cls, partitionId, objectId, method }));
  });

  // The partition of a stateless call is any text, and ignored.
  app.post(`${base}/invokes/:method`, async (c) => invokeReply(c, gateway, { clsId: c.req.param('cls'), partitionId: 0, method: c.req.param('method') }));

  app.get(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    const partitionId = partitionParam(partition, 'u32');
    const objectId = objectIdParam(id);
    return atOwner(c, runtime, async () => {
      let obj;
      try {
        obj = objDataOf(await gateway.getState(cls, partitionId, objectId));
      } catch (error) {
        throw error instanceof ObjectNotFoundError ? noObject(cls, partitionId, id) : error;
      }
      if ((c.req.header('accept') ?? '').includes('application/json')) {
        return c.body(JSON.stringify(objDataToJson(obj)), 200, { 'content-type': 'application/json' });
      }
      return c.body(encodeObjData(obj) as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-protobuf' });
    });
  });

  app.put(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    const partitionId = partitionParam(partition, 'u32');
    const objectId = objectIdParam(id);
    return atOwner(c, runtime, async () => {
      // The metadata is the path's, whatever the body says.
      const obj = readObjData(new Uint8Array(await c.req.arrayBuffer()), c.req.header('content-type'));
      const entries = stateEntriesOf(obj, gateway.classOf(cls));
      await gateway.putState(cls, partitionId, objectId, { entries }, { keepAbsent: true });
      return c.body(null, 200);
    });
  });

  app.delete(`${base}/objects/:id`, async (c) => {
    const { cls, partition, id } = c.req.param();
    const partitionId = partitionParam(partition, 'u32');
    const objectId = objectIdParam(id);
    return atOwner(c, runtime, async () => {
      await gateway.deleteObject(cls, partitionId, objectId);
      return c.body(null, 204);
    });
  });

  app.get(`${base}/objects`, async (c) => {
    const { cls, partition } = c.req.param();
    const partitionId = partitionParam(partition, 'u16');
    const { prefix, limit, cursor } = listQuery({ prefix: c.req.query('prefix'), limit: c.req.query('limit'), cursor: c.req.query('cursor') });
    if (limit === 0) {
      gateway.classOf(cls);
      // The platform answers an empty page and hands the cursor back.
      return c.json(cursor === undefined ? { objects: [] } : { objects: [], next_cursor: cursor });
    }
    let page;
    try {
      page = await gateway.list(cls, partitionId, { prefix, limit, cursor });
    } catch (error) {
      throw error instanceof InvalidArgumentError && error.argument === 'cursor' ? unknownError(error.message) : error;
    }
    const last = page.objects.at(-1);
    // The platform gives a cursor whenever the page is full, even when nothing follows.
    const next = page.next_cursor ?? (page.objects.length >= limit && last !== undefined ? encodeCursor(last.object_id) : undefined);
    return c.json(next === undefined ? { objects: page.objects } : { objects: page.objects, next_cursor: next });
  });
}
