// What the SDK's own dialect does with Oparaca-shaped requests, and the invocation options it passes on (in process, SQLite).
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeObjData } from '../../../src/protocol/oprc/obj-data.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../../support/runtime.js';
import { inProcess, json, sseEvents, type Harness } from '../support.js';
import { b64, call, enc, objPath } from './support.js';
import './services.js';

shutdownAfterEach();

const PROBE = 'oparaca.Probe';
type ErrorBody = { error: { code: string; message: string } };

describe('the SDK’s own dialect', () => {
  let h: Harness;
  beforeEach(async () => {
    await freshRuntime({ store: tempSqlite() });
    h = inProcess({ dialect: 'oaas' });
    await h.request(objPath(PROBE, 'p1'), { method: 'PUT', body: '{"entries":{"count":1,"label":"one"}}' });
  });

  const state = async (): Promise<unknown> => ((await json(await h.request(objPath(PROBE, 'p1')))) as { entries: unknown }).entries;

  it('refuses an ObjData JSON body, with or without metadata, rather than storing {data, type} as field values', async () => {
    const bodies = [
      { entries: { count: { data: b64('7'), type: 0 } } },
      { metadata: { cls_id: PROBE, partition_id: 0, object_id: 'p1' }, entries: { label: { data: b64('"x"'), type: 0 }, count: 3 } },
    ];
    for (const body of bodies) {
      const reply = await h.request(objPath(PROBE, 'p1'), { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      const error = (await json(reply)) as ErrorBody;
      expect([reply.status, error.error.code]).toEqual([400, 'OAAS_ERR_ARGUMENT_INVALID']);
      expect(error.error.message).toContain("an Oparaca ObjData body needs a server started with dialect 'oparaca'");
    }
    expect(await state()).toEqual({ count: 1, historyLog: [], label: 'one' });
  });

  it('refuses a protobuf ObjData body, saying which dialect it speaks', async () => {
    const body = encodeObjData({ entries: { count: { data: enc.encode('7'), type: 0 } } });
    const reply = await h.request(objPath(PROBE, 'p1'), { method: 'PUT', body: body as RequestInit['body'], headers: { 'content-type': 'application/x-protobuf' } });
    const error = (await json(reply)) as ErrorBody;
    expect([reply.status, error.error.code]).toEqual([400, 'OAAS_ERR_ARGUMENT_INVALID']);
    expect(error.error.message).toContain("this server speaks the SDK's own dialect");
    expect(await state()).toEqual({ count: 1, historyLog: [], label: 'one' });
  });

  it('still stores a field value of that shape when it comes in the codec’s escaped form', async () => {
    const wrapped = { $t: 'o', v: { data: b64('x'), type: 0 } };
    const reply = await h.request(objPath(PROBE, 'p1'), { method: 'PUT', body: JSON.stringify({ entries: { label: wrapped } }) });
    expect(reply.status).toBe(200);
    expect(await state()).toMatchObject({ label: { data: b64('x'), type: 0 } });
  });

  it('passes accept, content-type and traceparent to the method as its invocation options, streams included', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const reply = await call(h, PROBE, 'p1', 'options', '0', { accept: 'application/json', 'content-type': 'application/json', traceparent });
    expect(await json(reply)).toEqual({ accept: 'application/json', 'content-type': 'application/json', traceparent });
    const stream = await call(h, PROBE, 'p1', 'steps', '2', { accept: 'text/event-stream' });
    expect((await sseEvents(stream)).map((e) => e.data)).toEqual(['"text/event-stream 1"', '"text/event-stream 2"', '']);
  });

  it('marks no reply with the Oparaca dialect header', async () => {
    expect((await h.request(objPath(PROBE, 'p1'))).headers.get('oaas-dialect')).toBeNull();
  });
});
