/**
 * Cluster mode on the HTTP side: requests about an object another member
 * owns are relayed to it as they came (and answered with its response),
 * and the member-to-member routes: a forwarded call that answers with the
 * object's state, and a request to hand slots over.
 */
import type { Context, Env, Hono } from 'hono';
import { InvalidArgumentError, NotOwnerError } from '../errors.js';
import { normalizeObjectId, normalizePartitionId, type ObjectKey } from '../identity.js';
import type { Gateway } from '../invocation/gateway.js';
import type { Runtime } from '../runtime/runtime.js';
import { FORWARDED_HEADER, PEER_ROUTES, parseHandoverBody } from '../runtime/cluster/peer-client.js';

/** The key a request's path names, or `undefined` when the path is malformed (the gateway then answers the error). */
function keyOf(c: Context): ObjectKey | undefined {
  const { cls, partition, id } = c.req.param() as Record<string, string | undefined>;
  if (cls === undefined || partition === undefined || id === undefined) return undefined;
  try {
    return { clsId: cls, partitionId: normalizePartitionId(Number(partition)), objectId: normalizeObjectId(id) };
  } catch {
    return undefined;
  }
}

/**
 * Answers a request about an object where the object lives: `local()` here
 * when this process owns it (or is not in cluster mode), else the owner's
 * response to the request relayed as it came. `local` may run again when
 * the object moved away before it ran (it then refuses with `NotOwnerError`).
 */
export async function atOwner(c: Context, runtime: () => Runtime, local: () => Promise<Response>): Promise<Response> {
  const node = runtime().cluster;
  const key = node === undefined ? undefined : keyOf(c);
  if (node === undefined || key === undefined) return local();
  const fromPeer = c.req.header(FORWARDED_HEADER) !== undefined;
  const url = new URL(c.req.url);
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? undefined : await c.req.arrayBuffer();
  return node.routed(key, fromPeer, local, (owner) =>
    node.peers.relay(owner, { method: c.req.method, pathAndQuery: `${url.pathname}${url.search}`, headers: c.req.raw.headers, body }),
  );
}

/** The member-to-member routes (behind the server's token, like every `/api` route). */
export function peerRoutes<E extends Env>(app: Hono<E>, runtime: () => Runtime, gateway: Pick<Gateway, 'invoke'>): void {
  app.post(`${PEER_ROUTES.invoke}/:cls/:partition/objects/:id/:method`, async (c) => {
    const node = runtime().cluster;
    const key = keyOf(c);
    if (node === undefined) throw new InvalidArgumentError('cluster', 'this process is not in cluster mode');
    if (key === undefined) throw new InvalidArgumentError('path', 'expected /api/cluster/invoke/{cls}/{partition}/objects/{id}/{method}');
    const method = c.req.param('method');
    const body = await c.req.text();
    const reply = await node.routed(
      key,
      true,
      async () => gateway.invoke({ clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId, method, body, withState: true, traceparent: c.req.header('traceparent') }),
      () => Promise.reject(new NotOwnerError(key, undefined)),
    );
    if (reply.kind !== 'value') throw new InvalidArgumentError('method', `${method} is a streaming method: it cannot be forwarded from another process's instance`);
    return c.json({ value: reply.value ?? null, state: reply.state });
  });

  app.post(PEER_ROUTES.handover, async (c) => {
    const node = runtime().cluster;
    if (node === undefined) throw new InvalidArgumentError('cluster', 'this process is not in cluster mode');
    let parsed: unknown;
    try {
      parsed = JSON.parse(await c.req.text());
    } catch (error) {
      throw new InvalidArgumentError('body', 'expected { slots: [...] }', { cause: error });
    }
    const released = await node.handOver(parseHandoverBody(parsed));
    return c.json({ released });
  });
}
