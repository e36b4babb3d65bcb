// The flows of the Oparaca platform's own end-to-end test (tests/system_e2e), through both dialects, on a socket over SQLite.
// Each dialect answers its own documented way; the assertions say which.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeObjData } from '../../../src/protocol/oprc/obj-data.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../../support/runtime.js';
import { json, onSocket, type Harness } from '../support.js';
import { b64, call, clsPath, entryTexts, expectOparacaError, getJson, objPath, putJson } from './support.js';
import './services.js';

shutdownAfterEach();

const ECHO = 'e2e-test.E2EClass';
const COUNTER = 'e2e-ts-test.TsCounter';

const stateless = (h: Harness, cls: string, fn: string, body: string): Promise<Response> =>
  h.request(`${clsPath(cls)}/invokes/${fn}`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });

describe('the platform’s flows, Oparaca dialect', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await onSocket({ dialect: 'oparaca' });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  it('echo: the raw text hello-world comes back as it went; {"msg":"hello-ts"} comes back as JSON', async () => {
    const raw = await stateless(h, ECHO, 'echo', 'hello-world');
    expect([raw.status, await raw.text()]).toEqual([200, 'hello-world']);
    const asJson = await stateless(h, COUNTER, 'echo', '{"msg":"hello-ts"}');
    expect([asJson.status, asJson.headers.get('content-type'), await asJson.json()]).toEqual([200, 'application/json', { msg: 'hello-ts' }]);
  });

  it('increment {"amount": 5} twice on a fresh ts-counter-1 answers 5, then 10', async () => {
    expect(await (await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}')).text()).toBe('5');
    expect(await (await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}')).text()).toBe('10');
  });

  it('reads the object as ObjData JSON and protobuf, takes ObjData that an invocation then sees, lists, deletes', async () => {
    await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}');
    expect(entryTexts(await getJson(h, COUNTER, 'ts-counter-1'))).toEqual({ count: '5', history: '["+5"]' });
    const proto = await h.request(objPath(COUNTER, 'ts-counter-1'));
    const obj = decodeObjData(new Uint8Array(await proto.arrayBuffer()));
    expect(Buffer.from(obj.entries.count!.data).toString()).toBe('5');

    expect((await putJson(h, COUNTER, 'ts-counter-1', { entries: { count: { data: b64('7'), type: 0 } } })).status).toBe(200);
    expect(await (await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}')).text()).toBe('12');

    const listed = (await json(await h.request(`${clsPath(COUNTER)}/objects`))) as { objects: { object_id: string }[] };
    expect(listed.objects.map((o) => o.object_id)).toEqual(['ts-counter-1']);
    expect((await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'DELETE' })).status).toBe(204);
    await expectOparacaError(await h.request(objPath(COUNTER, 'ts-counter-1')), 404, 'NO_OBJECT');
  });

  it('/health answers ok', async () => {
    expect(await (await h.request('/health')).text()).toBe('ok');
  });
});

describe('the platform’s flows, the SDK’s own dialect', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await onSocket({ dialect: 'oaas' });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
  });

  type ErrorBody = { error: { code: string; message: string } };

  it('echo: bodies are JSON, so raw text is refused (400) and {"msg":"hello-ts"} comes back as JSON', async () => {
    const raw = await stateless(h, ECHO, 'echo', 'hello-world');
    expect([raw.status, ((await json(raw)) as ErrorBody).error.code]).toEqual([400, 'OAAS_ERR_ARGUMENT_INVALID']);
    expect(await json(await stateless(h, COUNTER, 'echo', '{"msg":"hello-ts"}'))).toEqual({ msg: 'hello-ts' });
  });

  it('increment on a missing ts-counter-1 is a 404; once it exists, 5 then 10', async () => {
    const missing = await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}');
    expect([missing.status, ((await json(missing)) as ErrorBody).error.code]).toEqual([404, 'OAAS_ERR_OBJECT_NOT_FOUND']);
    await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'PUT', body: '{"entries":{}}' });
    expect(await json(await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}'))).toBe(5);
    expect(await json(await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}'))).toBe(10);
  });

  it('reads the state as JSON with a version, takes plain field values, refuses ObjData, lists, deletes', async () => {
    await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'PUT', body: '{"entries":{"count":5}}' });
    expect(await json(await h.request(objPath(COUNTER, 'ts-counter-1')))).toEqual({
      metadata: { cls_id: COUNTER, partition_id: 0, object_id: 'ts-counter-1' },
      version: 1,
      entries: { count: 5, history: [] },
    });
    const objData = await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'PUT', body: JSON.stringify({ entries: { count: { data: b64('7'), type: 0 } } }) });
    const refused = (await json(objData)) as ErrorBody;
    expect([objData.status, refused.error.code]).toEqual([400, 'OAAS_ERR_ARGUMENT_INVALID']);
    expect(refused.error.message).toMatch(/count is an Oparaca ValData.*dialect 'oparaca'/);
    expect(await json(await call(h, COUNTER, 'ts-counter-1', 'getCount'))).toBe(5);

    await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'PUT', body: '{"entries":{"count":7}}' });
    expect(await json(await call(h, COUNTER, 'ts-counter-1', 'increment', '{"amount": 5}'))).toBe(12);
    const listed = (await json(await h.request(`${clsPath(COUNTER)}/objects`))) as { objects: { object_id: string }[] };
    expect(listed.objects.map((o) => o.object_id)).toEqual(['ts-counter-1']);
    expect((await h.request(objPath(COUNTER, 'ts-counter-1'), { method: 'DELETE' })).status).toBe(204);
    expect((await h.request(objPath(COUNTER, 'ts-counter-1'))).status).toBe(404);
  });

  it('/health answers like /healthz, in JSON', async () => {
    const reply = await h.request('/health');
    expect([reply.status, await json(reply), reply.headers.get('oaas-dialect')]).toEqual([200, { status: 'ok' }, null]);
  });
});
