// The typed client against the app: in process (injected fetch) and on a real socket (real fetch).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import {
  ApplicationError,
  ClassNotFoundError,
  ConflictError,
  InvalidArgumentError,
  InvalidIdError,
  LockTimeoutError,
  MethodNotFoundError,
  OaasError,
  OaasObject,
  ObjectNotFoundError,
  RemoteError,
  UnauthorizedError,
} from '../../src/index.js';
import { IdempotencyRecord } from '../../src/runtime/idempotency.js';
import { createApp } from '../../src/server/app.js';
import { freshRuntime, holdInScope, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from './fixtures/services.js';
import { appFetch, inProcess, onSocket, type Harness } from './support.js';

shutdownAfterEach();

class NotAService extends OaasObject {}

const harnesses: [string, () => Promise<Harness>][] = [
  ['in process', () => Promise.resolve(inProcess())],
  ['on a socket', () => onSocket()],
];

/** Waits until the object's turn is free (a streaming call holds it until the server has ended the stream). */
async function settled(client: ReturnType<Harness['client']>, id: string): Promise<void> {
  await client.ref(Counter, id).noop();
}

describe.each(harnesses)('typed client (%s)', (_name, start) => {
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

  it('calls methods, getters and setters through a typed ref', async () => {
    const client = h.client();
    await client.put(Counter, 'r1', { entries: { count: 1 } });
    const counter = client.ref(Counter, 'r1');
    expect(await counter.increment(2)).toBe(3);
    expect(await counter.increment()).toBe(4);
    expect(await counter.add(1, 2)).toBe(7);
    expect(await counter.rename('seven')).toBe('seven');
    expect(await counter.incrementByOne()).toBe(8);
    expect(await counter.getCount()).toBe(8);
    expect(await counter.getName()).toEqual({ name: 'ada' });
    await counter.setCount(20);
    expect(await counter.getCount()).toBe(20);
    expect(await counter.noop()).toBeNull();
    expect(await client.invoke(Counter, 'r1', 'increment', [1])).toBe(21);
    expect(await client.invokeStateless(Counter, 'shout', ['hey'])).toBe('HEY');
    // A ref is not a thenable, and serialises to nothing.
    expect(await Promise.resolve(counter)).toBe(counter);
    expect(JSON.stringify(counter)).toBe('{}');
  });

  it('reads, writes, lists and deletes state', async () => {
    const client = h.client();
    const put = await client.put(Counter, 's1', { entries: { count: 3, label: 'x' } });
    expect(put).toMatchObject({ metadata: { cls_id: 'remote.Counter', partition_id: 0, object_id: 's1' }, version: 1, entries: { count: 3 } });
    expect(await client.get(Counter, 's1')).toEqual(put);
    await client.put(Counter, 's2', { entries: {} }, { partitionId: 0 });
    await client.put(Counter, 'p7', { entries: { count: 7 } }, { partitionId: 7 });
    expect((await client.list(Counter, { prefix: 's' })).objects.map((o) => o.object_id)).toEqual(['s1', 's2']);
    const page = await client.list(Counter, { limit: 1 });
    expect(page.objects).toHaveLength(1);
    expect((await client.list(Counter, { limit: 1, cursor: page.next_cursor })).objects.map((o) => o.object_id)).toEqual(['s2']);
    expect((await client.list(Counter, { partitionId: 7 })).objects.map((o) => o.object_id)).toEqual(['p7']);
    expect(await client.ref(Counter, 'p7', { partitionId: 7 }).getCount()).toBe(7);
    await client.delete(Counter, 's1');
    await client.delete(Counter, 's1');
    await expect(client.get(Counter, 's1')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await client.ready()).toBe(true);
  });

  it('returns errors as the same OaasError subclasses, with the same codes', async () => {
    const client = h.client();
    await client.put(Counter, 'x1', { entries: { count: 1 } });
    const counter = client.ref(Counter, 'x1');
    const failed = await counter.fail('bad').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ApplicationError);
    expect(failed).toMatchObject({ code: 'OAAS_ERR_APP_FAILED', message: 'bad', errorType: 'RangeError', status: 422 });
    expect((failed as Error).stack).not.toContain('services.ts');

    await expect(client.ref(Counter, 'missing').increment(1)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(client.ref(Counter, 'missing').increment(1)).rejects.toMatchObject({ code: 'OAAS_ERR_OBJECT_NOT_FOUND' });
    // A class the client knows but the server does not serve (internal classes are never served).
    await expect(client.get(IdempotencyRecord, 'x1')).rejects.toBeInstanceOf(ClassNotFoundError);
    await expect(client.invoke(Counter, 'x1', 'plain')).rejects.toBeInstanceOf(MethodNotFoundError);
    await expect(client.invoke(Counter, 'x1', 'constructor')).rejects.toBeInstanceOf(MethodNotFoundError);
    await expect((counter as unknown as { plain(): Promise<string> }).plain()).rejects.toBeInstanceOf(MethodNotFoundError);
    await expect(client.ref(Counter, 'Not Valid').increment(1)).rejects.toBeInstanceOf(InvalidIdError);
    await expect(counter.increment('x' as unknown as number)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.put(Counter, 'x1', { entries: { count: 9 }, version: 99 })).rejects.toBeInstanceOf(ConflictError);
    expect(() => client.ref(Counter, 'x1', { partitionId: -1 })).toThrow(InvalidArgumentError);
    expect(await counter.getCount()).toBe(1);
  });

  it('returns a lock timeout as LockTimeoutError', async () => {
    await freshRuntime({ lockTimeoutMs: 30 });
    const client = h.client();
    await client.put(Counter, 'lk', { entries: {} });
    const { release, done: scope } = await holdInScope(() => Counter.load('lk'));
    try {
      await expect(client.ref(Counter, 'lk').increment(1)).rejects.toBeInstanceOf(LockTimeoutError);
    } finally {
      release();
      await scope;
    }
  });

  it('sends the idempotency key of a ref with each call', async () => {
    const client = h.client();
    await client.put(Counter, 'ik', { entries: {} });
    const once = client.ref(Counter, 'ik', { idempotencyKey: 'payment-42' });
    expect(await once.increment(10)).toBe(10);
    expect(await once.increment(10)).toBe(10);
    expect(await client.invoke(Counter, 'ik', 'increment', [10], { idempotencyKey: 'payment-42' })).toBe(10);
    expect(await client.ref(Counter, 'ik').getCount()).toBe(10);
    await expect(client.invoke(Counter, 'ik', 'increment', [1], { idempotencyKey: 'bad\nkey' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('streams an async * method as an async iterable', async () => {
    const client = h.client();
    await client.put(Counter, 'st', { entries: {} });
    const values: number[] = [];
    for await (const value of client.ref(Counter, 'st').progress(4)) values.push(value);
    expect(values).toEqual([1, 2, 3, 4]);
    expect((await client.get(Counter, 'st')).entries).toMatchObject({ count: 4, history: [1, 2, 3, 4] });
    const untyped: unknown[] = [];
    for await (const value of client.stream(Counter, 'st', 'progress', [2])) untyped.push(value);
    expect(untyped).toEqual([5, 6]);
    // A stream that fails raises the same error type after the values before it.
    const seen: number[] = [];
    const failure = await (async () => {
      for await (const value of client.ref(Counter, 'st').failing(3)) seen.push(value);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1, 2]);
    expect(failure).toBeInstanceOf(ApplicationError);
    expect(failure).toMatchObject({ errorType: 'TypeError', message: 'stream step 3 failed' });
    await expect(client.invoke(Counter, 'st', 'progress', [1])).rejects.toBeInstanceOf(InvalidArgumentError);
    // Nothing runs until iteration starts.
    client.ref(Counter, 'st').progress(100);
    await sleep(20);
    expect(await client.ref(Counter, 'st').getCount()).toBe(6);
  });

  it('a consumer that stops reading mid-stream ends the method; the object keeps its last checkpoint', async () => {
    const client = h.client();
    await client.put(Counter, 'mid', { entries: {} });
    const stepMs = 20;
    const seen: number[] = [];
    let stopped = 0;
    for await (const value of client.ref(Counter, 'mid').progress(1000, stepMs)) {
      seen.push(value);
      if (seen.length === 3) {
        stopped = performance.now();
        break;
      }
    }
    expect(seen).toEqual([1, 2, 3]);
    await settled(client, 'mid');
    const ranOn = performance.now() - stopped;
    const { entries } = await client.get(Counter, 'mid');
    const count = entries.count as number;
    // The server ran on only until it saw the consumer go: at most the steps that fit in that time, plus
    // one or two buffered; a stream that never ended would hold the object through all 1000 steps.
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(3 + Math.ceil(ranOn / stepMs) + 2);
    // Each step's change after its checkpoint (the history entry) was rolled back with the stream.
    expect(entries.history).toEqual(Array.from({ length: count - 1 }, (_, i) => i + 1));
    await sleep(5 * stepMs);
    expect((await client.get(Counter, 'mid')).entries.count).toBe(count);
  });

  it('passes traceparent, and fails typed on unreachable servers, timeouts and non-OaaS replies', async () => {
    const seen: (string | null)[] = [];
    const app = createApp();
    const spy: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers).get('traceparent'));
      return appFetch(app)(input, init);
    };
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await connect({ url: 'http://x.test', fetch: spy, traceparent: tp }).ready();
    await connect({ url: 'http://x.test', fetch: spy, traceparent: () => undefined }).ready();
    expect(seen).toEqual([tp, null]);

    const client = h.client({ timeoutMs: 50 });
    await client.put(Counter, 'slow', { entries: {} });
    const timedOut = await client.ref(Counter, 'slow').slow(150).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(RemoteError);
    expect((timedOut as RemoteError).message).toMatch(/no reply within 50 ms/);
    await sleep(150);

    const down = connect({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await expect(down.get(Counter, 'a')).rejects.toBeInstanceOf(RemoteError);
    expect(await down.ready()).toBe(false);

    const html = connect({ url: 'http://x.test', fetch: () => Promise.resolve(new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } })) });
    await expect(html.get(Counter, 'a')).rejects.toBeInstanceOf(RemoteError);
    const garbage = connect({ url: 'http://x.test', fetch: () => Promise.resolve(new Response('not json', { status: 200 })) });
    await expect(garbage.ref(Counter, 'a').getCount()).rejects.toBeInstanceOf(RemoteError);
    const foreign = connect({ url: 'http://x.test', fetch: () => Promise.resolve(Response.json({ error: { code: 'SOMETHING_ELSE', message: 'm' } }, { status: 400 })) });
    const error = await foreign.get(Counter, 'a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toBeInstanceOf(OaasError);
  });

  it('sends the bearer token', async () => {
    const secured = h.name === 'in process' ? inProcess({ token: 'tkn' }) : await onSocket({ token: 'tkn' });
    try {
      await expect(secured.client().get(Counter, 'a')).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(secured.client({ token: 'nope' }).get(Counter, 'a')).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(secured.client({ token: 'tkn' }).get(Counter, 'a')).rejects.toBeInstanceOf(ObjectNotFoundError);
    } finally {
      await secured.close();
    }
  });
});

describe('client argument checks', () => {
  const client = connect({ url: 'http://x.test', fetch: () => Promise.reject(new Error('no request expected')) });

  it('refuses bad options, unregistered classes and ids a URL cannot carry, before any request', async () => {
    expect(() => connect({ url: 'ftp://x' })).toThrow(InvalidArgumentError);
    expect(() => connect({ url: 'not a url' })).toThrow(InvalidArgumentError);
    expect(() => connect({ url: 'http://x', timeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => connect({ url: 'http://x', token: 'has space' })).toThrow(InvalidArgumentError);
    expect(() => client.ref(NotAService, 'a')).toThrow(ClassNotFoundError);
    await expect(client.get(NotAService, 'a')).rejects.toBeInstanceOf(ClassNotFoundError);
    await expect(client.get(Counter, '..')).rejects.toBeInstanceOf(InvalidIdError);
    expect(() => client.ref(Counter, '.')).toThrow(InvalidIdError);
    await expect(client.invoke(Counter, 'a', 'increment', [1, 2])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.invoke(Counter, 'a', 'increment', [10n])).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('encodes arguments by arity: none, one as itself, several as an array (trailing undefined dropped)', async () => {
    const bodies: (string | undefined)[] = [];
    const recorder = connect({
      url: 'http://x.test',
      fetch: (_input, init) => {
        bodies.push(init?.body as string | undefined);
        return Promise.resolve(Response.json(1));
      },
    });
    const ref = recorder.ref(Counter, 'a');
    await ref.increment();
    await ref.increment(undefined);
    await ref.increment(5);
    await ref.add(1, 2);
    await ref.tag(['a']);
    await ref.setCount(3);
    expect(bodies).toEqual([undefined, undefined, '5', '[1,2]', '["a"]', '3']);
  });
});
