/**
 * Change events over HTTP, as Server-Sent Events:
 * - `GET /api/class/{cls}/{partition}/objects/{id}/events`: one object; each
 *   event's id is its version, so a reconnecting `EventSource` (which sends
 *   `Last-Event-ID`) resumes with `since`: a gap first if it missed versions.
 * - `GET /api/class/{cls}/{partition}/events`: every object of the class in
 *   the partition; ids are `<objectId>:<version>`.
 * `?lastEventId=` stands in for the header where a client cannot set it.
 * Each `data:` is one {@link WireWatchEvent}; a comment line every 15 s
 * keeps idle connections open through proxies.
 */
import type { Context, Env, Hono } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import { ClassNotFoundError, InvalidArgumentError } from '../errors.js';
import { normalizePartitionId } from '../identity.js';
import { ObjectRef } from '../object/object-ref.js';
import { eventId, type WireWatchEvent } from '../protocol/events.js';
import { findClassMetaById } from '../registry/registry.js';
import type { WatchEvent, WatchOptions, WatchTarget } from '../runtime/events/watch-types.js';
import type { Runtime } from '../runtime/runtime.js';

const HEARTBEAT_MS = 15_000;

/** Registers the two event routes on `app`. */
export function eventRoutes<E extends Env>(app: Hono<E>, runtime: () => Runtime): void {
  app.get('/api/class/:cls/:partition/objects/:id/events', (c) => {
    const { cls, partition, id } = c.req.param();
    const ref = new ObjectRef(knownClass(cls), partitionOf(partition), id);
    const last = lastEventId(c);
    let since: number | undefined;
    if (last !== undefined) {
      since = Number(last);
      if (!/^\d{1,15}$/.test(last)) throw new InvalidArgumentError('Last-Event-ID', `must be a version on an object's event stream, got ${JSON.stringify(last)}`);
    }
    return eventStream(c, runtime, ref, { since }, false);
  });

  app.get('/api/class/:cls/:partition/events', (c) => {
    const { cls, partition } = c.req.param();
    const clsId = knownClass(cls);
    const last = lastEventId(c);
    let after: WatchOptions['after'];
    if (last !== undefined) {
      const match = /^(.*):(\d{1,15})$/s.exec(last);
      if (match === null) throw new InvalidArgumentError('Last-Event-ID', `must be <objectId>:<version> on a class's event stream, got ${JSON.stringify(last)}`);
      after = { objectId: match[1]!, version: Number(match[2]) };
    }
    return eventStream(c, runtime, clsId, { partitionId: partitionOf(partition), after }, true);
  });
}

function eventStream<E extends Env>(c: Context<E>, runtime: () => Runtime, target: WatchTarget, options: WatchOptions, perClass: boolean): Response {
  const rt = runtime();
  let opened: (sse: SSEStreamingApi) => void = () => undefined;
  const stream = new Promise<SSEStreamingApi>((resolve) => (opened = resolve));
  // Watching before the reply starts: a refused watch (shut down, bad id) gets its own status, not a 200 that ends at once.
  const unwatch = rt.watch(
    target,
    async (event) => {
      const sse = await stream;
      if (sse.aborted || sse.closed) return;
      const wire = toWire(event);
      // Waiting for the socket is what makes a slow reader fall behind (and get gaps) rather than grow a buffer.
      await sse.writeSSE({ id: eventId(wire, perClass), data: JSON.stringify(wire) });
    },
    options,
  );
  // Reverse proxies (nginx) buffer responses by default, which would hold the events back.
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (sse) => {
    const signal = c.req.raw.signal;
    const done = new Promise<void>((resolve) => {
      sse.onAbort(resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
      if (signal.aborted) resolve();
    });
    opened(sse);
    const heartbeat = setInterval(() => {
      sse.write(': keep-alive\n\n').catch(() => undefined);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      await unwatch.ready.catch((error: unknown) => {
        rt.logger.warn({ err: error, path: c.req.path }, 'an event stream hears this process only: listening to the store failed');
      });
      await done;
    } finally {
      clearInterval(heartbeat);
      unwatch();
    }
  });
}

function toWire(event: WatchEvent): WireWatchEvent {
  const { clsId, partitionId, objectId } = event.ref;
  return event.kind === 'gap' ? { kind: 'gap', clsId, partitionId, objectId, from: event.from, to: event.to } : { kind: event.kind, clsId, partitionId, objectId, version: event.version, changed: event.changed };
}

function lastEventId<E extends Env>(c: Context<E>): string | undefined {
  return c.req.header('last-event-id') ?? c.req.query('lastEventId');
}

/** Internal classes (`oaas.*`) are not reachable, as for every other route. */
function knownClass(clsId: string): string {
  const meta = findClassMetaById(clsId);
  if (meta === undefined || meta.pkg === 'oaas') throw new ClassNotFoundError(clsId);
  return meta.clsId;
}

function partitionOf(raw: string): number {
  return normalizePartitionId(/^(0|[1-9][0-9]{0,9})$/.test(raw) ? Number(raw) : raw);
}
