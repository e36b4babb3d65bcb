// The Oparaca dialect, point by point, on raw HTTP: in process and on a socket, over a real SQLite file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../src/errors.js';
import type { Gateway } from '../../../src/invocation/gateway.js';
import { decodeObjData, encodeObjData } from '../../../src/protocol/oprc/obj-data.js';
import { createApp } from '../../../src/server/app.js';
import { captureLogs } from '../../support/logs.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../../support/runtime.js';
import { inProcess, onSocket, type Harness } from '../support.js';
import { b64, call, clsPath, enc, entryTexts, expectOparacaError, getJson, objPath, putJson } from './support.js';
import './services.js';

shutdownAfterEach();

const PROBE = 'oparaca.Probe';
const COUNTER = 'e2e-ts-test.TsCounter';

const harnesses: [string, () => Promise<Harness>][] = [
  ['in process', () => Promise.resolve(inProcess({ dialect: 'oparaca' }))],
  ['on a socket', () => onSocket({ dialect: 'oparaca' })],
];

describe.each(harnesses)('the Oparaca dialect (%s)', (_name, start) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  describe('1. PUT takes ObjData', () => {
    it('as JSON: the entry bytes are the stored field text, so count becomes 7 and an invocation sees 7; 200 with an empty body', async () => {
      const put = await putJson(h, PROBE, 'p1', { entries: { count: { data: 'Nw==', type: 0 } } });
      expect([put.status, await put.text()]).toEqual([200, '']);
      const added = await call(h, PROBE, 'p1', 'add', '1');
      expect(await added.text()).toBe('8');
    });

    it('as protobuf, with content type application/x-protobuf, application/octet-stream or none', async () => {
      const types: (string | undefined)[] = ['application/x-protobuf', 'application/octet-stream', undefined];
      for (const [i, type] of types.entries()) {
        const body = encodeObjData({ entries: { count: { data: enc.encode(String(10 + i)), type: 0 } } });
        const put = await h.request(objPath(PROBE, `pb${i}`), { method: 'PUT', body: body as RequestInit['body'], headers: type === undefined ? {} : { 'content-type': type } });
        expect([put.status, await put.text()]).toEqual([200, '']);
        expect(entryTexts(await getJson(h, PROBE, `pb${i}`)).count).toBe(String(10 + i));
      }
    });

    it('is an upsert: entries absent from the body keep their values; the metadata is the path’s', async () => {
      await putJson(h, PROBE, 'u1', { entries: { label: { data: b64('"kept"'), type: 0 }, count: { data: b64('1'), type: 0 } } });
      const put = await putJson(h, PROBE, 'u1', {
        metadata: { cls_id: 'other.Class', partition_id: 9, object_id: 'elsewhere' },
        entries: { count: { data: b64('2'), type: 0 } },
      });
      expect(put.status).toBe(200);
      expect(entryTexts(await getJson(h, PROBE, 'u1'))).toEqual({ count: '2', historylog: '[]', label: '"kept"' });
      expect((await h.request(objPath(PROBE, 'elsewhere'))).status).toBe(404);
    });

    it('refuses a content type the platform does not read (502 UNKNOWN), changing nothing', async () => {
      await putJson(h, PROBE, 'c1', { entries: { count: { data: b64('3'), type: 0 } } });
      const reply = await h.request(objPath(PROBE, 'c1'), { method: 'PUT', body: '{"entries":{}}', headers: { 'content-type': 'text/plain' } });
      expect(await expectOparacaError(reply, 502, 'UNKNOWN')).toBe('Error: unsupported content-type: text/plain');
      expect(entryTexts(await getJson(h, PROBE, 'c1')).count).toBe('3');
    });
  });

  describe('2. GET answers ObjData', () => {
    beforeEach(async () => {
      await putJson(h, PROBE, 'g1', { entries: { count: { data: b64('7'), type: 0 }, historyLog: { data: b64('["a"]'), type: 0 } } });
    });

    it('as protobuf by default and with Accept: application/x-protobuf', async () => {
      for (const headers of [{}, { accept: 'application/x-protobuf' }] as Record<string, string>[]) {
        const reply = await h.request(objPath(PROBE, 'g1'), { headers });
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toBe('application/x-protobuf');
        const obj = decodeObjData(new Uint8Array(await reply.arrayBuffer()));
        expect(obj.metadata).toEqual({ cls_id: PROBE, partition_id: 0, object_id: 'g1' });
        expect(Object.fromEntries(Object.entries(obj.entries).map(([k, v]) => [k, [Buffer.from(v.data).toString(), v.type]]))).toEqual({
          count: ['7', 0],
          historylog: ['["a"]', 0],
          label: ['""', 0],
        });
      }
    });

    it('as JSON with Accept: application/json: snake_case, standard base64, enum numbers, no version', async () => {
      const reply = await h.request(objPath(PROBE, 'g1'), { headers: { accept: 'application/json' } });
      expect(reply.headers.get('content-type')).toBe('application/json');
      expect(await reply.json()).toEqual({
        metadata: { cls_id: PROBE, partition_id: 0, object_id: 'g1' },
        event: null,
        entries: { count: { data: 'Nw==', type: 0 }, historylog: { data: 'WyJhIl0=', type: 0 }, label: { data: 'IiI=', type: 0 } },
      });
    });

    it('of an object that does not exist: 404 NO_OBJECT, worded as the platform words it', async () => {
      const message = await expectOparacaError(await h.request(objPath(PROBE, 'Nope')), 404, 'NO_OBJECT');
      expect(message).toBe(`No object exists in ${PROBE} with partition 0 and string id Nope`);
    });
  });

  describe('3. invoking an object that does not exist', () => {
    it('runs the method on a fresh object, which is created and committed', async () => {
      expect(await (await call(h, COUNTER, 'fresh-1', 'increment', '{"amount": 5}')).text()).toBe('5');
      expect(entryTexts(await getJson(h, COUNTER, 'fresh-1'))).toEqual({ count: '5', history: '["+5"]' });
    });

    it('creates nothing when the method fails on the fresh object', async () => {
      const reply = await call(h, COUNTER, 'fresh-2', 'failOnPurpose', '"boom"');
      expect(reply.status).toBe(200);
      await expectOparacaError(await h.request(objPath(COUNTER, 'fresh-2')), 404, 'NO_OBJECT');
    });
  });

  describe('4. raw payloads, options and raw results', () => {
    it('hands a body that is not JSON to the method as one Uint8Array, JSON as its value, and none as no argument', async () => {
      const received = async (body?: string | Uint8Array): Promise<unknown> => (await call(h, PROBE, 'r1', 'received', body)).json();
      expect(await received('hello-world')).toEqual({ bytes: [...enc.encode('hello-world')] });
      expect(await received(new Uint8Array([0xff, 0x00, 0xfe]))).toEqual({ bytes: [0xff, 0x00, 0xfe] });
      expect(await received('{"a":1}')).toEqual({ json: { a: 1 } });
      expect(await received()).toEqual({ none: true });
    });

    it('passes accept, content-type and a valid traceparent to the method as its invocation options', async () => {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const reply = await call(h, PROBE, 'o1', 'options', '', { accept: 'application/json', 'content-type': 'text/plain', traceparent });
      expect(await reply.json()).toEqual({ accept: 'application/json', 'content-type': 'text/plain', traceparent });
    });

    it('keeps each request’s options to itself while calls overlap', async () => {
      const replies = await Promise.all(['a/1', 'b/2', 'c/3'].map((accept, i) => call(h, PROBE, `ov${i}`, 'options', '30', { accept, 'content-type': 'application/json' })));
      expect(await Promise.all(replies.map(async (r) => ((await r.json()) as { accept: string }).accept))).toEqual(['a/1', 'b/2', 'c/3']);
    });

    it('answers bytes and strings raw, typed from the reply headers or Accept; other values as JSON; nothing as an empty body', async () => {
      const bytes = await call(h, PROBE, 'x1', 'bytes');
      expect([bytes.headers.get('content-type'), [...new Uint8Array(await bytes.arrayBuffer())]]).toEqual(['application/octet-stream', [0, 1, 2, 255]]);
      const asked = await call(h, PROBE, 'x1', 'text', '', { accept: 'application/json' });
      expect([asked.headers.get('content-type'), await asked.text()]).toEqual(['application/json', 'plain words']);
      const html = await call(h, PROBE, 'x1', 'html', '', { accept: 'application/json' });
      expect([html.headers.get('content-type'), await html.text()]).toEqual(['text/html; charset=utf-8', '<p>hi</p>']);
      const json = await call(h, PROBE, 'x1', 'add', '2');
      expect([json.headers.get('content-type'), await json.text()]).toEqual(['application/json', '2']);
      const nothing = await call(h, PROBE, 'x1', 'nothing');
      expect([nothing.status, nothing.headers.get('content-type'), await nothing.text()]).toEqual([200, 'application/octet-stream', '']);
    });

    it('keeps bytes a method took and answers them with the type they came with (the example of docs/oparaca.md)', async () => {
      const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(await (await call(h, 'media.Blobs', 'b1', 'upload', png, { 'content-type': 'image/png' })).text()).toBe('8');
      const back = await call(h, 'media.Blobs', 'b1', 'download');
      expect([back.headers.get('content-type'), [...new Uint8Array(await back.arrayBuffer())]]).toEqual(['image/png', [...png]]);
    });

    it('answers a streaming method’s values at once, as a JSON array, each produced with the request’s options', async () => {
      const reply = await call(h, PROBE, 's1', 'steps', '3', { accept: 'text/x-steps' });
      expect(await reply.json()).toEqual(['text/x-steps 1', 'text/x-steps 2', 'text/x-steps 3']);
      expect(entryTexts(await getJson(h, PROBE, 's1')).count).toBe('3');
    });
  });

  describe('5. failures of the invocation are 200 with the payload', () => {
    it('an error the method throws: its payload, APP_ERROR in oaas-status, the change rolled back', async () => {
      await call(h, COUNTER, 'f1', 'increment', '{"amount": 1}');
      const reply = await call(h, COUNTER, 'f1', 'failOnPurpose', '"boom"');
      expect([reply.status, reply.headers.get('oaas-status'), reply.headers.get('content-type')]).toEqual([200, 'APP_ERROR', 'application/json']);
      expect(await reply.json()).toEqual({ error_type: 'RangeError', error_message: 'boom' });
      expect(await (await call(h, COUNTER, 'f1', 'getCount')).text()).toBe('1');
    });

    it('arguments the method refuses: INVALID_REQUEST; an unknown method: the platform’s text and SYSTEM_ERROR', async () => {
      const bad = await call(h, PROBE, 'f2', 'add', '"two"');
      expect([bad.status, bad.headers.get('oaas-status')]).toEqual([200, 'INVALID_REQUEST']);
      expect(await bad.json()).toMatchObject({ error_type: 'InvalidArgumentError', code: 'OAAS_ERR_ARGUMENT_INVALID' });
      const unknown = await call(h, PROBE, 'f2', 'nope');
      expect([unknown.status, unknown.headers.get('oaas-status'), await unknown.text()]).toEqual([200, 'SYSTEM_ERROR', `No func nope on class ${PROBE} exists`]);
      await expectOparacaError(await h.request(objPath(PROBE, 'f2')), 404, 'NO_OBJECT');
    });

    it('an unknown class is the platform’s 404 NO_QUERYABLE, not a payload', async () => {
      await expectOparacaError(await call(h, 'no.Such', 'x', 'm'), 404, 'NO_QUERYABLE');
      await expectOparacaError(await h.request(objPath('no.Such', 'x')), 404, 'NO_QUERYABLE');
    });
  });

  describe('6. ids, entry keys and partitions', () => {
    it('lowers ids, then checks them: 400 INVALID_OBJECT_ID for bad characters, an empty or a too long id', async () => {
      expect(await (await call(h, PROBE, 'Mixed-Case.ID', 'add', '4')).text()).toBe('4');
      expect((await getJson(h, PROBE, 'mixed-case.id')) as object).toMatchObject({ metadata: { object_id: 'mixed-case.id' } });
      expect(await expectOparacaError(await h.request(objPath(PROBE, 'Bad$Id')), 400, 'INVALID_OBJECT_ID')).toBe('Invalid object id: invalid characters in object id');
      expect(await expectOparacaError(await call(h, PROBE, 'a'.repeat(161), 'add', '1'), 400, 'INVALID_OBJECT_ID')).toBe('Invalid object id: object id too long');
      expect((await h.request(objPath(PROBE, 'a'.repeat(160)))).status).toBe(404);
      await expectOparacaError(await h.request(objPath(PROBE, 'x%20y'), { method: 'DELETE' }), 400, 'INVALID_OBJECT_ID');
    });

    it('lowers entry keys as ODGM does: historyLog is the entry historylog, either way in', async () => {
      await putJson(h, PROBE, 'k1', { entries: { HistoryLog: { data: b64('["a"]'), type: 0 } } });
      expect(await (await call(h, PROBE, 'k1', 'log', '"b"')).json()).toEqual(['a', 'b']);
      expect(Object.keys(entryTexts(await getJson(h, PROBE, 'k1')))).toEqual(['count', 'historylog', 'label']);
    });

    it('ignores the partition of the stateless route, whatever it is', async () => {
      const reply = await h.request(`${clsPath('e2e-test.E2EClass', 'not-a-number')}/invokes/echo`, { method: 'POST', body: '{"any":1}' });
      expect(await reply.text()).toBe('{"any":1}');
    });

    it('reads partitions as u16 on invoke and list, u32 on get, put and delete; others are a plain-text 400', async () => {
      expect(await (await h.request(objPath(PROBE, 'pp', 'add', 65535), { method: 'POST', body: '1' })).text()).toBe('1');
      const tooWide = await h.request(objPath(PROBE, 'pp', 'add', 65536), { method: 'POST', body: '1' });
      expect([tooWide.status, tooWide.headers.get('content-type'), await tooWide.text()]).toEqual([
        400,
        'text/plain; charset=UTF-8',
        'Invalid URL: Cannot parse `pid` with value `65536` to a `u16`',
      ]);
      expect((await h.request(`${clsPath(PROBE, 65536)}/objects`)).status).toBe(400);
      expect((await h.request(objPath(PROBE, 'pp', undefined, 65536))).status).toBe(404);
      expect((await h.request(objPath(PROBE, 'pp', undefined, 4294967296))).status).toBe(400);
      expect((await h.request(objPath(PROBE, 'pp', undefined, 'x'), { method: 'DELETE' })).status).toBe(400);
    });
  });

  describe('7. codes, health and listing', () => {
    it('answers /health and /healthz with ok and /readyz with ready, as plain text', async () => {
      for (const [path, text] of [['/health', 'ok'], ['/healthz', 'ok'], ['/readyz', 'ready']] as const) {
        const reply = await h.request(path);
        expect([reply.status, await reply.text()]).toEqual([200, text]);
      }
    });

    it('answers a path no route matches with the platform’s plain NOT FOUND, and marks every reply with oaas-dialect', async () => {
      const reply = await h.request('/api/nowhere');
      expect([reply.status, await reply.text(), reply.headers.get('oaas-dialect')]).toEqual([404, 'NOT FOUND', 'oparaca']);
      expect((await h.request(objPath(PROBE, 'Bad$'))).headers.get('oaas-dialect')).toBe('oparaca');
      expect((await h.request('/health')).headers.get('oaas-dialect')).toBe('oparaca');
    });

    it('deletes with 204, also when there is nothing to delete', async () => {
      await putJson(h, PROBE, 'd1', { entries: {} });
      expect((await h.request(objPath(PROBE, 'd1'), { method: 'DELETE' })).status).toBe(204);
      expect((await h.request(objPath(PROBE, 'd1'), { method: 'DELETE' })).status).toBe(204);
      await expectOparacaError(await h.request(objPath(PROBE, 'd1')), 404, 'NO_OBJECT');
    });

    it('lists pages with a cursor whenever the page is full; limit is clamped to 1000 and 0 gives an empty page', async () => {
      for (const id of ['l-a', 'l-b', 'l-c']) await putJson(h, PROBE, id, { entries: {} });
      const list = async (query: string): Promise<{ objects: { object_id: string }[]; next_cursor?: string }> => {
        const reply = await h.request(`${clsPath(PROBE)}/objects?${query}`);
        expect(reply.status, await reply.clone().text()).toBe(200);
        return reply.json() as Promise<{ objects: { object_id: string }[]; next_cursor?: string }>;
      };
      const first = await list('prefix=l-&limit=2');
      expect(first.objects).toEqual([
        { object_id: 'l-a', version: 1, entry_count: 3 },
        { object_id: 'l-b', version: 1, entry_count: 3 },
      ]);
      const second = await list(`prefix=l-&limit=2&cursor=${first.next_cursor}`);
      expect([second.objects.map((o) => o.object_id), second.next_cursor]).toEqual([['l-c'], undefined]);
      const full = await list('limit=3');
      expect(full.next_cursor).toEqual(expect.any(String));
      expect(await list(`limit=3&cursor=${full.next_cursor}`)).toEqual({ objects: [] });
      expect(await list('limit=0')).toEqual({ objects: [] });
      expect(await list(`limit=0&cursor=${first.next_cursor}`)).toEqual({ objects: [], next_cursor: first.next_cursor });
      expect((await list('limit=5000')).objects).toHaveLength(3);
      expect((await h.request(`${clsPath(PROBE)}/objects?limit=ten`)).status).toBe(400);
      await expectOparacaError(await h.request(`${clsPath(PROBE)}/objects?cursor=not%20base64`), 502, 'UNKNOWN');
    });

    it('refuses malformed bodies with the platform’s codes and changes nothing', async () => {
      await putJson(h, PROBE, 'm1', { entries: { count: { data: b64('1'), type: 0 } } });
      const put = (body: string | Uint8Array, type: string): Promise<Response> =>
        h.request(objPath(PROBE, 'm1'), { method: 'PUT', body: body as RequestInit['body'], headers: { 'content-type': type } });
      const badProtobuf = await expectOparacaError(await put(new Uint8Array([0x22, 0x05, 0x01]), 'application/x-protobuf'), 422, 'INVALID_PROtobuf');
      expect(badProtobuf).toMatch(/^Invalid protobuf: failed to decode Protobuf message: /);
      await expectOparacaError(await put('{"entries":', 'application/json'), 502, 'UNKNOWN');
      await expectOparacaError(await put('{"metadata":null}', 'application/json'), 502, 'UNKNOWN');
      await expectOparacaError(await put('{"entries":{"count":{"data":"not base64!","type":0}}}', 'application/json'), 502, 'UNKNOWN');
      await expectOparacaError(await put(JSON.stringify({ entries: { nofield: { data: b64('1'), type: 0 } } }), 'application/json'), 400, 'INVALID_ARGUMENT');
      await expectOparacaError(await put(JSON.stringify({ entries: { count: { data: b64('not json'), type: 0 } } }), 'application/json'), 400, 'INVALID_ARGUMENT');
      await expectOparacaError(await put(JSON.stringify({ entries: { count: { data: b64('2'), type: 1 } } }), 'application/json'), 400, 'INVALID_ARGUMENT');
      await expectOparacaError(await put(JSON.stringify({ entries: { 'bad key': { data: b64('2'), type: 0 } } }), 'application/json'), 502, 'ZENOH_REPLY_ERR');
      const withTrigger = { entries: { count: { data: b64('2'), type: 0 } }, event: { func_trigger: { add: { on_complete: [{ cls_id: PROBE, partition_id: 0, fn_id: 'add' }] } } } };
      await expectOparacaError(await put(JSON.stringify(withTrigger), 'application/json'), 400, 'INVALID_ARGUMENT');
      expect(entryTexts(await getJson(h, PROBE, 'm1')).count).toBe('1');
    });
  });
});

describe('failures the platform has no word for, in the Oparaca dialect', () => {
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  it('a body over the limit: 413 with the SDK’s code in the platform’s body shape', async () => {
    const h = inProcess({ dialect: 'oparaca', bodyLimitBytes: 16 });
    const reply = await call(h, PROBE, 'a', 'received', 'x'.repeat(64));
    expect([reply.status, await reply.json()]).toEqual([413, { error: { code: 'OAAS_ERR_PAYLOAD_TOO_LARGE', message: 'request body exceeds 16 bytes' } }]);
  });

  it('a store that does not answer: /readyz is 503 not ready; a failing store is 502 ZENOH_REPLY_ERR; a bug is a logged 500', async () => {
    const { logger, lines } = captureLogs();
    const failing = {
      ready: () => Promise.resolve(false),
      getState: () => Promise.reject(new StoreError('disk gone', { transient: false })),
      deleteObject: () => Promise.reject(new Error('secret detail')),
    } as unknown as Gateway;
    const app = createApp({ dialect: 'oparaca', gateway: failing, logger });
    const ready = await app.request('/readyz');
    expect([ready.status, await ready.text()]).toEqual([503, 'not ready']);
    expect(await expectOparacaError(await app.request(objPath(PROBE, 'a')), 502, 'ZENOH_REPLY_ERR')).toBe('Proxy error: Got reply with error: disk gone');
    const bug = await app.request(objPath(PROBE, 'a'), { method: 'DELETE' });
    expect([bug.status, await bug.json()]).toEqual([500, { error: { code: 'OAAS_ERR_SERVER_INTERNAL', message: 'internal server error' } }]);
    expect(JSON.stringify(lines.filter((l) => l.msg === 'request failed unexpectedly'))).toContain('secret detail');
  });
});

describe('the Oparaca dialect with a token', () => {
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  it('refuses /api without it in the same body shape, the SDK’s code, and the dialect header; health stays open', async () => {
    const h = inProcess({ dialect: 'oparaca', token: 's3cret' });
    const refused = await h.request(objPath(PROBE, 'a'));
    expect([refused.status, refused.headers.get('oaas-dialect')]).toEqual([401, 'oparaca']);
    expect(await refused.json()).toEqual({ error: { code: 'OAAS_ERR_AUTH_REQUIRED', message: 'missing or invalid bearer token' } });
    expect((await h.request('/health')).status).toBe(200);
    expect((await h.request(objPath(PROBE, 'a'), { headers: { authorization: 'Bearer s3cret' } })).status).toBe(404);
  });
});
