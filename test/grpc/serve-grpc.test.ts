// `serveGrpc` on a real socket, over a real SQLite file, called by a grpc-js client built from the same schema:
// the platform's own end-to-end flows, every response status, and commit before the reply.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { configureOaas } from '../../src/index.js';
import { OaasRuntime } from '../../src/runtime/oaas-runtime.js';
import { decodeState } from '../../src/object/codec.js';
import { serveGrpc, type RunningGrpcServer } from '../../src/grpc/serve-grpc.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { captureLogs } from '../support/logs.js';
import { checkedShutdown, tempSqlite } from '../support/runtime.js';
import { json, oprcClient, rawCall, type OprcFunctionClient } from './support.js';
import { armMeeting } from './fixtures/services.js';

const CLS = 'e2e-ts-test.TsCounter';
const text = (value: string) => Buffer.from(value, 'utf8');

let spec: string;
let server: RunningGrpcServer;
let client: OprcFunctionClient;
let reader: SqliteStore | undefined;

/** The object as stored, read through a store of its own on the same file (not the runtime's). */
async function stored(objectId: string): Promise<{ version: number; entries: Record<string, unknown> } | undefined> {
  reader ??= new SqliteStore({ path: spec.slice('sqlite:'.length) });
  await reader.open();
  const object = await reader.get({ clsId: CLS, partitionId: 0, objectId });
  if (object === undefined) return undefined;
  const entries = Object.fromEntries([...object.entries].map(([key, bytes]) => [key, decodeState(Buffer.from(bytes).toString('utf8'))]));
  return { version: object.version, entries };
}

beforeEach(async () => {
  spec = tempSqlite();
  // No background commits: whatever is stored when a reply arrives was committed for that reply.
  await configureOaas({ store: spec, autoCommit: false, logLevel: 'silent' });
  server = await serveGrpc({ port: 0 });
  client = oprcClient(`127.0.0.1:${server.port}`);
});

afterEach(async () => {
  client.close();
  await server.close();
  await reader?.close();
  reader = undefined;
  await checkedShutdown();
});

describe('InvokeFn (stateless)', () => {
  it('echoes raw text as the same bytes, and JSON as JSON', async () => {
    const raw = await client.invokeFn({ cls_id: CLS, fn_id: 'echo', payload: text('hello-world') });
    expect(raw.status).toBe('OKAY');
    expect(raw.payload.toString('utf8')).toBe('hello-world');
    expect(raw.headers['content-type']).toBe('application/octet-stream');

    const structured = await client.invokeFn({ cls_id: CLS, fn_id: 'echo', payload: text('{"msg":"hello-ts"}'), options: { 'content-type': 'application/json' } });
    expect(structured.status).toBe('OKAY');
    expect(json(structured)).toEqual({ msg: 'hello-ts' });
    expect(structured.headers['content-type']).toBe('application/json');
  });

  it('answers a string as its text, and partition ids other than 0 are served', async () => {
    const reply = await client.invokeFn({ cls_id: CLS, partition_id: 7, fn_id: 'greet', payload: text('"ada"') });
    expect(reply.status).toBe('OKAY');
    expect(reply.payload.toString('utf8')).toBe('hello, ada');
    expect(reply.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('shows the request options to the method (currentInvocation) and answers the reply headers it sets', async () => {
    const reply = await client.invokeFn({ cls_id: CLS, fn_id: 'page', options: { Accept: 'text/html' } });
    expect(reply.status).toBe('OKAY');
    expect(reply.payload.toString('utf8')).toBe('<p>text/html</p>');
    expect(reply.headers['content-type']).toBe('text/html');
    const plain = await client.invokeFn({ cls_id: CLS, fn_id: 'page' });
    expect(plain.payload.toString('utf8')).toBe('<p></p>');
    expect(plain.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('refuses a method that needs an object with INVALID_REQUEST', async () => {
    const reply = await client.invokeFn({ cls_id: CLS, fn_id: 'increment', payload: text('{"amount":1}') });
    expect(reply.status).toBe('INVALID_REQUEST');
    expect(json(reply)).toMatchObject({ error: { code: 'OAAS_ERR_ARGUMENT_INVALID' } });
  });
});

describe('InvokeObj', () => {
  it('increments a fresh object: 5, then 10, each committed before its reply', async () => {
    expect(await stored('ts-counter-1')).toBeUndefined();
    const first = await client.invokeObj({ cls_id: CLS, partition_id: 0, object_id: 'ts-counter-1', fn_id: 'increment', payload: text('{"amount": 5}') });
    expect(first.status).toBe('OKAY');
    expect(json(first)).toBe(5);
    expect(await stored('ts-counter-1')).toEqual({ version: 1, entries: { count: 5, log: [], blob: new Uint8Array(0) } });

    const second = await client.invokeObj({ cls_id: CLS, partition_id: 0, object_id: 'ts-counter-1', fn_id: 'increment', payload: text('{"amount": 5}') });
    expect(json(second)).toBe(10);
    expect(await stored('ts-counter-1')).toEqual({ version: 2, entries: { count: 10, log: [], blob: new Uint8Array(0) } });
  });

  it('runs concurrent first calls on one missing object one after the other, on one object', async () => {
    const call = { cls_id: CLS, object_id: 'raced', fn_id: 'increment', payload: text('{"amount": 5}') };
    const replies = await Promise.all([client.invokeObj(call), client.invokeObj(call), client.invokeObj(call)]);
    expect(replies.map((r) => r.status)).toEqual(['OKAY', 'OKAY', 'OKAY']);
    expect(replies.map((r) => json(r)).sort()).toEqual([10, 15, 5]);
    expect((await stored('raced'))?.entries.count).toBe(15);
  });

  it('runs first calls on one missing object from two processes sharing the store on one object', async () => {
    // A second runtime on the same file stands for a second replica: both create the object, one creation wins,
    // and the other call runs again on the stored object.
    const second = new OaasRuntime(resolveConfig({ store: spec, autoCommit: false, logLevel: 'silent' }));
    const otherServer = await serveGrpc({ port: 0, runtime: () => second });
    const otherClient = oprcClient(`127.0.0.1:${otherServer.port}`);
    try {
      armMeeting();
      const call = { cls_id: CLS, object_id: 'shared', fn_id: 'meet', payload: text('{"amount": 5}') };
      const replies = await Promise.all([client.invokeObj(call), otherClient.invokeObj(call)]);
      expect(replies.map((r) => r.status)).toEqual(['OKAY', 'OKAY']);
      expect(replies.map((r) => json(r)).sort()).toEqual([10, 5]);
      expect((await stored('shared'))?.entries.count).toBe(10);
    } finally {
      otherClient.close();
      await otherServer.close();
      await second.shutdown();
    }
  });

  it('lowercases object ids, as the platform does', async () => {
    await client.invokeObj({ cls_id: CLS, object_id: 'Mixed-Case', fn_id: 'increment', payload: text('{"amount": 2}') });
    const again = await client.invokeObj({ cls_id: CLS, object_id: 'MIXED-case', fn_id: 'increment', payload: text('{"amount": 3}') });
    expect(json(again)).toBe(5);
    expect((await stored('mixed-case'))?.entries.count).toBe(5);
  });

  it('hands a payload that is not JSON to the method as one Uint8Array', async () => {
    const reply = await client.invokeObj({ cls_id: CLS, object_id: 'files', fn_id: 'upload', payload: Buffer.from([0xff, 0x00, 0x41]) });
    expect(reply.status).toBe('OKAY');
    expect(json(reply)).toBe(3);
    const blob = (await stored('files'))?.entries.blob;
    // A plain Uint8Array (not the decoder's Buffer), with the bytes as they came.
    expect(blob).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(blob)).toBe(false);
    expect([...(blob as Uint8Array)]).toEqual([0xff, 0x00, 0x41]);
    // Text that is not JSON is bytes too; a method that declares a string refuses them.
    const refused = await client.invokeObj({ cls_id: CLS, object_id: 'files', fn_id: 'note', payload: text('plain words') });
    expect(refused.status).toBe('INVALID_REQUEST');
    expect(json(refused)).toMatchObject({ error: { code: 'OAAS_ERR_ARGUMENT_INVALID' } });
  });

  it('answers APP_ERROR with the error body when the method throws, and stores nothing of the call', async () => {
    await client.invokeObj({ cls_id: CLS, object_id: 'acct', fn_id: 'increment', payload: text('{"amount": 3}') });
    const reply = await client.invokeObj({ cls_id: CLS, object_id: 'acct', fn_id: 'overdraw', payload: text('10') });
    expect(reply.status).toBe('APP_ERROR');
    expect(json(reply)).toEqual({ error: { code: 'OAAS_ERR_APP_FAILED', message: 'count would be -7', type: 'RangeError' } });
    expect(reply.headers['content-type']).toBe('application/json');
    expect(await stored('acct')).toEqual({ version: 1, entries: { count: 3, log: [], blob: new Uint8Array(0) } });
  });

  it('answers INVALID_REQUEST for a malformed payload, and changes nothing', async () => {
    // Said to be JSON, and is not.
    const broken = await client.invokeObj({ cls_id: CLS, object_id: 'strict', fn_id: 'increment', payload: text('{"amount": 5'), options: { 'Content-Type': 'application/json' } });
    expect(broken.status).toBe('INVALID_REQUEST');
    expect(json(broken)).toMatchObject({ error: { code: 'OAAS_ERR_ARGUMENT_INVALID' } });
    // Said to be JSON, and not even UTF-8.
    const binary = await client.invokeObj({ cls_id: CLS, object_id: 'strict', fn_id: 'increment', payload: Buffer.from([0x22, 0xff, 0x22]), options: { 'content-type': 'application/json' } });
    expect(json(binary)).toMatchObject({ error: { code: 'OAAS_ERR_ARGUMENT_INVALID', message: 'payload: the content type says JSON, but the payload is not UTF-8 text' } });
    // JSON, but not the array a two-argument method takes.
    const shape = await client.invokeObj({ cls_id: CLS, object_id: 'strict', fn_id: 'add', payload: text('{"a": 1}') });
    expect(shape.status).toBe('INVALID_REQUEST');
    expect((json(shape) as { error: { message: string } }).error.message).toContain('add takes 2 arguments');
    // A bad object id and a missing one.
    const badId = await client.invokeObj({ cls_id: CLS, object_id: 'no spaces', fn_id: 'increment', payload: text('{"amount": 1}') });
    expect(json(badId)).toMatchObject({ error: { code: 'OAAS_ERR_ID_INVALID' } });
    const noId = await client.invokeObj({ cls_id: CLS, fn_id: 'increment', payload: text('{"amount": 1}') });
    expect(noId.status).toBe('INVALID_REQUEST');
    expect(json(noId)).toMatchObject({ error: { message: 'object_id: InvokeObj needs the id of the object to invoke' } });
    expect(await stored('strict')).toBeUndefined();
  });

  it('answers INVALID_REQUEST for an unknown class or method, and for a private one', async () => {
    const cls = await client.invokeObj({ cls_id: 'e2e-ts-test.Nope', object_id: 'x', fn_id: 'increment', payload: text('{}') });
    expect(cls.status).toBe('INVALID_REQUEST');
    expect(json(cls)).toMatchObject({ error: { code: 'OAAS_ERR_CLASS_NOT_FOUND' } });
    const fn = await client.invokeObj({ cls_id: CLS, object_id: 'x', fn_id: 'decrement', payload: text('{}') });
    expect(json(fn)).toMatchObject({ error: { code: 'OAAS_ERR_METHOD_NOT_FOUND' } });
    const internal = await client.invokeFn({ cls_id: 'oaas.Idempotency', fn_id: 'result' });
    expect(json(internal)).toMatchObject({ error: { code: 'OAAS_ERR_CLASS_NOT_FOUND' } });
    expect(await stored('x')).toBeUndefined();
  });

  it('answers INVALID_REQUEST, not a gRPC error, for a message that is not valid protobuf', async () => {
    const reply = await rawCall(`127.0.0.1:${server.port}`, 'InvokeObj', Buffer.from([0x1a, 0x85]));
    expect(reply.status).toBe('INVALID_REQUEST');
    expect(json(reply)).toMatchObject({ error: { code: 'OAAS_ERR_ARGUMENT_INVALID', message: 'request: the message is not a valid protobuf encoding' } });
  });

  it('runs a call once per idempotency key given in the options', async () => {
    const call = { cls_id: CLS, object_id: 'idem', fn_id: 'increment', payload: text('{"amount": 4}'), options: { 'idempotency-key': 'k-1' } };
    expect(json(await client.invokeObj(call))).toBe(4);
    expect(json(await client.invokeObj(call))).toBe(4);
    expect((await stored('idem'))?.entries.count).toBe(4);
  });

  it('answers a streaming method with all its values, committed with the reply', async () => {
    const reply = await client.invokeObj({ cls_id: CLS, object_id: 'down', fn_id: 'countdown', payload: text('3') });
    expect(json(reply)).toEqual([3, 2, 1]);
    expect((await stored('down'))?.entries.count).toBe(1);
  });

  it('accepts messages larger than the 4 MiB gRPC default', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const reply = await client.invokeFn({ cls_id: CLS, fn_id: 'echo', payload: text(JSON.stringify(big)) });
    expect(reply.status).toBe('OKAY');
    expect(reply.payload.length).toBe(big.length);
  });
});

describe('a runtime that fails', () => {
  it('answers SYSTEM_ERROR, not a gRPC error, when the runtime is shut down', async () => {
    await checkedShutdown();
    const reply = await client.invokeObj({ cls_id: CLS, object_id: 'late', fn_id: 'increment', payload: text('{"amount": 1}') });
    expect(reply.status).toBe('SYSTEM_ERROR');
    expect(json(reply)).toMatchObject({ error: { code: 'OAAS_ERR_RUNTIME_SHUT_DOWN' } });
  });
});

describe('an unexpected failure', () => {
  it('answers SYSTEM_ERROR without detail, and logs it', async () => {
    const { logger, lines } = captureLogs();
    const logged = await serveGrpc({ port: 0, logger });
    const logging = oprcClient(`127.0.0.1:${logged.port}`);
    try {
      const reply = await logging.invokeFn({ cls_id: CLS, fn_id: 'huge' });
      expect(reply.status).toBe('SYSTEM_ERROR');
      expect(json(reply)).toEqual({ error: { code: 'OAAS_ERR_SERVER_INTERNAL', message: 'internal server error' } });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 50, msg: 'invocation failed unexpectedly', err: { type: 'TypeError' } });
    } finally {
      logging.close();
      await logged.close();
    }
  });
});

describe('serveGrpc options', () => {
  let other: RunningGrpcServer | undefined;
  const saved = process.env.HTTP_PORT;
  beforeAll(() => {
    delete process.env.HTTP_PORT;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.HTTP_PORT;
    else process.env.HTTP_PORT = saved;
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
    delete process.env.HTTP_PORT;
  });

  it('takes the port from HTTP_PORT when none is given, as the platform sets it', async () => {
    const probe = await serveGrpc({ port: 0 });
    const free = probe.port;
    await probe.close();
    process.env.HTTP_PORT = String(free);
    other = await serveGrpc();
    expect(other.port).toBe(free);
    expect(other.address).toBe(`127.0.0.1:${free}`);
    const direct = oprcClient(other.address);
    try {
      expect(json(await direct.invokeFn({ cls_id: CLS, fn_id: 'echo', payload: text('1') }))).toBe(1);
    } finally {
      direct.close();
    }
  });

  it('refuses malformed options with a ConfigurationError naming the option', async () => {
    const refusal = (options: unknown) => serveGrpc(options as never).catch((error: unknown) => error as { name: string; field: string });
    expect(await refusal({ port: -1 })).toMatchObject({ name: 'ConfigurationError', field: 'port' });
    expect(await refusal({ port: '8080' })).toMatchObject({ name: 'ConfigurationError', field: 'port' });
    expect(await refusal({ host: '' })).toMatchObject({ name: 'ConfigurationError', field: 'host' });
    expect(await refusal({ conflictRetries: -2 })).toMatchObject({ name: 'ConfigurationError', field: 'conflictRetries' });
    expect(await refusal({ runtime: 'mine' })).toMatchObject({ name: 'ConfigurationError', field: 'runtime' });
    expect(await refusal({ logger: {} })).toMatchObject({ name: 'ConfigurationError', field: 'logger' });
    expect(await refusal({ token: 'secret' })).toMatchObject({ name: 'ConfigurationError', field: 'token' });
    expect(await refusal(null)).toMatchObject({ name: 'ConfigurationError', field: 'options' });
    process.env.HTTP_PORT = 'eighty';
    expect(await refusal({})).toMatchObject({ name: 'ConfigurationError', field: 'port (HTTP_PORT)' });
    expect(await refusal({ port: server.port })).toMatchObject({ name: 'ConfigurationError', field: 'port' });
  });
});
