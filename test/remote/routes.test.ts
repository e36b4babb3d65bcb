// Every route and every error status, on raw HTTP: once in process (app.request) and once on a real socket.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, shutdown } from '../../src/index.js';
import { freshRuntime, holdInScope, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from './fixtures/services.js';
import { classPath, inProcess, invoke, json, objectPath, onSocket, putObject, sseEvents, type Harness } from './support.js';

shutdownAfterEach();

const harnesses: [string, () => Promise<Harness>][] = [
  ['in process', () => Promise.resolve(inProcess({ bodyLimitBytes: 64 * 1024 }))],
  ['on a socket', () => onSocket({ bodyLimitBytes: 64 * 1024 })],
];

type ErrorReply = { error: { code: string; message: string; type?: string } };

async function expectError(response: Response, status: number, code: string): Promise<ErrorReply> {
  const body = (await json(response)) as ErrorReply;
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at |stack/);
  return body;
}

describe.each(harnesses)('routes (%s)', (_name, start) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime();
  });

  describe('object state', () => {
    it('PUT creates, GET reads, PUT replaces, DELETE deletes (204, idempotent)', async () => {
      const created = await putObject(h, 'c1', { count: 5, label: 'five' });
      expect(created.status).toBe(200);
      const state = await json(created);
      expect(state).toEqual({
        metadata: { cls_id: 'remote.Counter', partition_id: 0, object_id: 'c1' },
        version: 1,
        entries: { count: 5, history: [], profile: { name: 'ada', secret: 'hidden' }, label: 'five' },
      });
      expect(await json(await h.request(objectPath('c1')))).toEqual(state);

      // Fields not given go back to their defaults; metadata may be repeated when it matches.
      const replaced = await putObject(h, 'c1', { count: 7 }, { metadata: { cls_id: 'remote.Counter', partition_id: 0, object_id: 'c1' }, version: 1 });
      expect(await json(replaced)).toMatchObject({ version: 2, entries: { count: 7, label: '' } });

      const deleted = await h.request(objectPath('c1'), { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      expect(await deleted.text()).toBe('');
      await expectError(await h.request(objectPath('c1')), 404, 'OAAS_ERR_OBJECT_NOT_FOUND');
      expect((await h.request(objectPath('c1'), { method: 'DELETE' })).status).toBe(204);
      expect((await h.request(objectPath('never-was'), { method: 'DELETE' })).status).toBe(204);
    });

    it('PUT refuses bad bodies: not JSON, wrong shape, unknown field, mismatched metadata, stale version (409)', async () => {
      await putObject(h, 'p1', { count: 1 });
      const put = (body: string) => h.request(objectPath('p1'), { method: 'PUT', body });
      await expectError(await put('{'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('[]'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('{"entries": 3}'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('{"entries": {"nope": 1}}'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('{"entries": {}, "version": -1}'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('{"entries": {}, "metadata": {"object_id": "other"}}'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await put('{"entries": {"count": 2}, "version": 7}'), 409, 'OAAS_ERR_COMMIT_CONFLICT');
      expect(await json(await h.request(objectPath('p1')))).toMatchObject({ version: 1, entries: { count: 1 } });
    });

    it('lists objects by prefix, in pages, with a cursor', async () => {
      for (const id of ['l-a', 'l-b', 'l-c', 'l-d', 'l-e', 'other']) await putObject(h, id, { count: 1 });
      const first = (await json(await h.request(`${classPath()}/objects?prefix=l-&limit=2`))) as { objects: { object_id: string }[]; next_cursor?: string };
      expect(first.objects).toEqual([
        { object_id: 'l-a', version: 1, entry_count: 4 },
        { object_id: 'l-b', version: 1, entry_count: 4 },
      ]);
      const ids = first.objects.map((o) => o.object_id);
      let cursor = first.next_cursor;
      while (cursor !== undefined) {
        const page = (await json(await h.request(`${classPath()}/objects?prefix=l-&limit=2&cursor=${encodeURIComponent(cursor)}`))) as typeof first;
        ids.push(...page.objects.map((o) => o.object_id));
        cursor = page.next_cursor;
      }
      expect(ids).toEqual(['l-a', 'l-b', 'l-c', 'l-d', 'l-e']);
      const all = (await json(await h.request(`${classPath()}/objects`))) as typeof first;
      expect(all.objects).toHaveLength(6);
      expect(all.next_cursor).toBeUndefined();
      for (const limit of ['0', '1001', 'x', '1.5', '-1']) {
        await expectError(await h.request(`${classPath()}/objects?limit=${limit}`), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      }
      expect((await h.request(`${classPath()}/objects?limit=1000`)).status).toBe(200);
    });
  });

  describe('invocation', () => {
    it('passes one argument as JSON, several as an array, none as an empty body; replies with the JSON result', async () => {
      await putObject(h, 'i1', { count: 0 });
      expect(await json(await invoke(h, 'i1', 'increment', '2'))).toBe(2);
      expect(await json(await invoke(h, 'i1', 'increment'))).toBe(3);
      expect(await json(await invoke(h, 'i1', 'add', '[10, 20]'))).toBe(33);
      expect(await json(await invoke(h, 'i1', 'rename', '"hello"'))).toBe('hello');
      expect(await json(await invoke(h, 'i1', 'tag', '["a","b"]'))).toBe(2);
      const nothing = await invoke(h, 'i1', 'noop');
      expect([nothing.status, await nothing.text()]).toEqual([200, 'null']);
      // The invocation name of a renamed method.
      expect(await json(await invoke(h, 'i1', 'bump'))).toBe(34);
      // Committed before the reply: a fresh read from the store shows it.
      expect(await json(await h.request(objectPath('i1')))).toMatchObject({ entries: { count: 34, label: 'hello' } });
    });

    it('reaches getters and setters by name', async () => {
      await putObject(h, 'g1', { count: 4 });
      expect(await json(await invoke(h, 'g1', 'getCount'))).toBe(4);
      expect(await json(await invoke(h, 'g1', 'getName'))).toEqual({ name: 'ada' });
      expect((await invoke(h, 'g1', 'setCount', '9')).status).toBe(200);
      expect(await json(await invoke(h, 'g1', 'getCount'))).toBe(9);
      await expectError(await invoke(h, 'g1', 'getCount', '1'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
    });

    it('invokes stateless methods without an object', async () => {
      const reply = await h.request(`${classPath()}/invokes/shout`, { method: 'POST', body: '"hi"' });
      expect(await json(reply)).toBe('HI');
      await expectError(await h.request(`${classPath()}/invokes/increment`, { method: 'POST', body: '1' }), 400, 'OAAS_ERR_ARGUMENT_INVALID');
    });

    it('replays the first result for a repeated Idempotency-Key, without running the method again', async () => {
      await putObject(h, 'k1', { count: 0 });
      const first = await json(await invoke(h, 'k1', 'increment', '5', { 'idempotency-key': 'order-1' }));
      const again = await json(await invoke(h, 'k1', 'increment', '5', { 'idempotency-key': 'order-1' }));
      expect([first, again]).toEqual([5, 5]);
      // The same key on another method, or another key, runs.
      expect(await json(await invoke(h, 'k1', 'add', '[1, 1]', { 'idempotency-key': 'order-1' }))).toBe(7);
      expect(await json(await invoke(h, 'k1', 'increment', '5', { 'idempotency-key': 'order-2' }))).toBe(12);
      expect(await json(await h.request(objectPath('k1')))).toMatchObject({ entries: { count: 12 } });
      await expectError(await invoke(h, 'k1', 'increment', '5', { 'idempotency-key': 'x'.repeat(201) }), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      // Concurrent repeats: one runs, all get its result.
      const replies = await Promise.all([1, 2, 3, 4].map(() => invoke(h, 'k1', 'increment', '1', { 'idempotency-key': 'burst' }).then(json)));
      expect(new Set(replies)).toEqual(new Set([13]));
      expect(await json(await h.request(objectPath('k1')))).toMatchObject({ entries: { count: 13 } });
    });

    it('echoes a valid traceparent, on errors too, and no malformed one', async () => {
      const given = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      expect((await h.request('/healthz', { headers: { traceparent: given } })).headers.get('traceparent')).toBe(given);
      expect((await invoke(h, 'nobody', 'increment', '1', { traceparent: given, tracestate: 'k=v' })).headers.get('traceparent')).toBe(given);
      for (const bad of ['garbage', '00-00000000000000000000000000000000-b7ad6b7169203331-01', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01']) {
        expect((await invoke(h, 'nobody', 'increment', '1', { traceparent: bad })).headers.get('traceparent')).toBeNull();
      }
      expect((await h.request('/healthz')).headers.get('traceparent')).toBeNull();
    });
  });

  describe('streaming', () => {
    it('streams each value of an async * method as an SSE event, then an end event', async () => {
      await putObject(h, 's1', { count: 0 });
      const reply = await invoke(h, 's1', 'progress', '[3]', { accept: 'text/event-stream' });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await sseEvents(reply)).toEqual([
        { event: 'message', data: '1' },
        { event: 'message', data: '2' },
        { event: 'message', data: '3' },
        { event: 'end', data: '' },
      ]);
      expect(await json(await h.request(objectPath('s1')))).toMatchObject({ entries: { count: 3, history: [1, 2, 3] } });
    });

    it('ends a failing stream with an error event carrying the wire error', async () => {
      await putObject(h, 's2', { count: 0 });
      const events = await sseEvents(await invoke(h, 's2', 'failing', '3'));
      expect(events.slice(0, 2)).toEqual([
        { event: 'message', data: '1' },
        { event: 'message', data: '2' },
      ]);
      expect(events[2]!.event).toBe('error');
      expect(JSON.parse(events[2]!.data)).toEqual({ error: { code: 'OAAS_ERR_APP_FAILED', message: 'stream step 3 failed', type: 'TypeError' } });
    });

    it('fails a stream that cannot start with a JSON error and its status', async () => {
      await expectError(await invoke(h, 'missing', 'progress', '[3]'), 404, 'OAAS_ERR_OBJECT_NOT_FOUND');
    });
  });

  describe('health', () => {
    it('answers /healthz, and /readyz while the store is reachable', async () => {
      expect(await json(await h.request('/healthz'))).toEqual({ status: 'ok' });
      expect(await json(await h.request('/readyz'))).toEqual({ status: 'ready' });
      await shutdown();
      await expectError(await h.request('/readyz'), 503, 'OAAS_ERR_STORE_FAILED');
      expect((await h.request('/healthz')).status).toBe(200);
      await expectError(await invoke(h, 'c1', 'increment', '1'), 503, 'OAAS_ERR_RUNTIME_SHUT_DOWN');
    });
  });

  describe('errors', () => {
    it('404: unknown class, method, object and route', async () => {
      await putObject(h, 'e1', { count: 0 });
      await expectError(await h.request(objectPath('e1', 'increment', 'remote.Nope'), { method: 'POST' }), 404, 'OAAS_ERR_CLASS_NOT_FOUND');
      await expectError(await h.request(objectPath('e1', undefined, 'remote.Nope')), 404, 'OAAS_ERR_CLASS_NOT_FOUND');
      // Internal classes are not served.
      await expectError(await h.request(objectPath('e1', undefined, 'oaas.Idempotency')), 404, 'OAAS_ERR_CLASS_NOT_FOUND');
      await expectError(await invoke(h, 'e1', 'nope'), 404, 'OAAS_ERR_METHOD_NOT_FOUND');
      await expectError(await invoke(h, 'missing', 'increment', '1'), 404, 'OAAS_ERR_OBJECT_NOT_FOUND');
      await expectError(await h.request('/api/nothing'), 404, 'OAAS_ERR_ROUTE_NOT_FOUND');
      await expectError(await h.request('/'), 404, 'OAAS_ERR_ROUTE_NOT_FOUND');
      await expectError(await h.request(objectPath('e1'), { method: 'PATCH' }), 404, 'OAAS_ERR_ROUTE_NOT_FOUND');
      await expectError(await h.request(objectPath('e1', 'increment')), 404, 'OAAS_ERR_ROUTE_NOT_FOUND');
    });

    it('404: only @method, @getter and @setter members are invocable', async () => {
      await putObject(h, 'e2', { count: 0 });
      for (const name of ['constructor', '__proto__', '_internal', 'plain', 'toString', 'hasOwnProperty', 'checkpoint', 'delete', 'asRef', 'refresh', 'prototype', 'count']) {
        await expectError(await invoke(h, 'e2', name), 404, 'OAAS_ERR_METHOD_NOT_FOUND');
      }
      expect(await json(await h.request(objectPath('e2')))).toMatchObject({ version: 1, entries: { count: 0 } });
    });

    it('400: malformed id, partition, JSON, argument types and counts', async () => {
      await putObject(h, 'e3', { count: 0 });
      await expectError(await h.request(objectPath('Bad%20ID!', 'increment'), { method: 'POST', body: '1' }), 400, 'OAAS_ERR_ID_INVALID');
      await expectError(await h.request(objectPath('UPPER')), 400, 'OAAS_ERR_ID_INVALID');
      await expectError(await h.request(objectPath('x'.repeat(161))), 400, 'OAAS_ERR_ID_INVALID');
      for (const partition of ['x', '-1', '1.5', '99999999999', '0x1']) {
        await expectError(await h.request(`${classPath('remote.Counter', partition)}/objects/e3`), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      }
      await expectError(await invoke(h, 'e3', 'increment', '{'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'increment', '"three"'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'rename', '42'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'tag', '{"not":"an array"}'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'add', '3'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'add', '[1, 2, 3]'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      await expectError(await invoke(h, 'e3', 'add', '[1, "2"]'), 400, 'OAAS_ERR_ARGUMENT_INVALID');
      expect(await json(await h.request(objectPath('e3')))).toMatchObject({ version: 1, entries: { count: 0 } });
    });

    it('422: a @method error carries its type and message, never a stack, and changes nothing', async () => {
      await putObject(h, 'e4', { count: 1 });
      const body = await expectError(await invoke(h, 'e4', 'fail', '"no way"'), 422, 'OAAS_ERR_APP_FAILED');
      expect(body).toEqual({ error: { code: 'OAAS_ERR_APP_FAILED', message: 'no way', type: 'RangeError' } });
      expect(await json(await h.request(objectPath('e4')))).toMatchObject({ version: 1, entries: { count: 1 } });
      expect(await json(await invoke(h, 'e4', 'getCount'))).toBe(1);
    });

    it('503: an object held past lockTimeoutMs', async () => {
      await freshRuntime({ lockTimeoutMs: 50 });
      await putObject(h, 'held', { count: 0 });
      const { release, done: scope } = await holdInScope(() => Counter.load('held'));
      try {
        await expectError(await invoke(h, 'held', 'increment', '1'), 503, 'OAAS_ERR_LOCK_TIMEOUT');
      } finally {
        release();
        await scope;
      }
      expect(await json(await invoke(h, 'held', 'increment', '1'))).toBe(1);
    });

    it('413: a body over bodyLimitBytes, and the server keeps serving', async () => {
      await putObject(h, 'e5', { count: 0 });
      const huge = JSON.stringify('x'.repeat(64 * 1024 + 1));
      await expectError(await invoke(h, 'e5', 'rename', huge), 413, 'OAAS_ERR_PAYLOAD_TOO_LARGE');
      await expectError(await h.request(objectPath('e5'), { method: 'PUT', body: JSON.stringify({ entries: { label: 'x'.repeat(70_000) } }) }), 413, 'OAAS_ERR_PAYLOAD_TOO_LARGE');
      // Without a content-length (a streamed body), the limit holds while reading.
      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
          controller.close();
        },
      });
      const streamed = await h.request(objectPath('e5', 'rename'), { method: 'POST', body: chunks, duplex: 'half' });
      await expectError(streamed, 413, 'OAAS_ERR_PAYLOAD_TOO_LARGE');
      expect(await json(await invoke(h, 'e5', 'increment', '1'))).toBe(1);
    });

    it('maps every status the issue names to its code, as ERROR_CODES says', () => {
      const statuses = Object.fromEntries(
        ['OAAS_ERR_CLASS_NOT_FOUND', 'OAAS_ERR_METHOD_NOT_FOUND', 'OAAS_ERR_OBJECT_NOT_FOUND', 'OAAS_ERR_ID_INVALID', 'OAAS_ERR_ARGUMENT_INVALID', 'OAAS_ERR_APP_FAILED', 'OAAS_ERR_COMMIT_CONFLICT', 'OAAS_ERR_LOCK_TIMEOUT', 'OAAS_ERR_PAYLOAD_TOO_LARGE', 'OAAS_ERR_AUTH_REQUIRED'].map(
          (code) => [code, ERROR_CODES[code as keyof typeof ERROR_CODES].status],
        ),
      );
      expect(statuses).toEqual({
        OAAS_ERR_CLASS_NOT_FOUND: 404,
        OAAS_ERR_METHOD_NOT_FOUND: 404,
        OAAS_ERR_OBJECT_NOT_FOUND: 404,
        OAAS_ERR_ID_INVALID: 400,
        OAAS_ERR_ARGUMENT_INVALID: 400,
        OAAS_ERR_APP_FAILED: 422,
        OAAS_ERR_COMMIT_CONFLICT: 409,
        OAAS_ERR_LOCK_TIMEOUT: 503,
        OAAS_ERR_PAYLOAD_TOO_LARGE: 413,
        OAAS_ERR_AUTH_REQUIRED: 401,
      });
    });
  });
});

describe.each(harnesses)('bearer token (%s)', (_name) => {
  let h: Harness;
  const token = 's3cret-token';
  beforeAll(async () => {
    h = _name === 'in process' ? inProcess({ token }) : await onSocket({ token });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime();
  });

  it('401 without the token or with a wrong one; health routes stay open', async () => {
    const path = objectPath('t1');
    await expectError(await h.request(path), 401, 'OAAS_ERR_AUTH_REQUIRED');
    const wrong = await h.request(path, { headers: { authorization: 'Bearer s3cret-tokeX' } });
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectError(wrong, 401, 'OAAS_ERR_AUTH_REQUIRED');
    await expectError(await h.request(path, { headers: { authorization: `Basic ${token}` } }), 401, 'OAAS_ERR_AUTH_REQUIRED');
    await expectError(await h.request(path, { headers: { authorization: `Bearer ${token}x` } }), 401, 'OAAS_ERR_AUTH_REQUIRED');
    // Unauthenticated callers learn nothing about routes either.
    await expectError(await h.request('/api/nothing'), 401, 'OAAS_ERR_AUTH_REQUIRED');
    await expectError(await h.request(path, { method: 'PUT', body: 'x'.repeat(2 * 1024 * 1024) }), 401, 'OAAS_ERR_AUTH_REQUIRED');
    expect((await h.request('/healthz')).status).toBe(200);
    expect((await h.request('/readyz')).status).toBe(200);
    const ok = await h.request(path, { method: 'PUT', body: '{"entries":{}}', headers: { authorization: `bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});
