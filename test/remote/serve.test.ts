// serve(): where it listens, how it closes, and what it refuses; createApp's options and its 500 path.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/client/client.js';
import { ConfigurationError, OaasError, healthCheck } from '../../src/index.js';
import type { Gateway, InvokeCall } from '../../src/invocation/gateway.js';
import { createApp } from '../../src/server/app.js';
import { serve, type RunningServer } from '../../src/server/serve.js';
import { captureLogs } from '../support/logs.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from './fixtures/services.js';

shutdownAfterEach();

describe('serve', () => {
  const running: RunningServer[] = [];
  beforeEach(async () => {
    await freshRuntime();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(running.splice(0).map((s) => s.close({ timeoutMs: 200 })));
  });

  async function start(options: Parameters<typeof serve>[0] = {}): Promise<RunningServer> {
    const server = await serve(options);
    running.push(server);
    return server;
  }

  it('listens on 127.0.0.1 by default, on a free port with port 0, or on HTTP_PORT', async () => {
    const server = await start({ port: 0 });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    vi.stubEnv('HTTP_PORT', '0');
    const fromEnv = await start();
    expect(fromEnv.port).toBeGreaterThan(0);
    expect(fromEnv.port).not.toBe(server.port);
  });

  it('refuses bad ports, hosts and options, and a port in use, with ConfigurationError', async () => {
    await expect(serve({ port: -1 })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 1.5 })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 70_000 })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 0, host: '' })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 0, token: 'two words' })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 0, bodyLimitBytes: 0 })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(serve({ port: 0, conflictRetries: -1 })).rejects.toBeInstanceOf(ConfigurationError);
    vi.stubEnv('HTTP_PORT', 'eighty');
    await expect(serve()).rejects.toThrow(/HTTP_PORT/);
    vi.unstubAllEnvs();

    const taken = await start({ port: 0 });
    const error = await serve({ port: taken.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/EADDRINUSE/);
  });

  it('refuses unknown options, naming each of them, before listening', async () => {
    const one = await serve({ port: 0, prot: 8080 } as never).catch((e: unknown) => e);
    expect(one).toBeInstanceOf(ConfigurationError);
    expect((one as ConfigurationError).field).toBe('prot');
    expect((one as Error).message).toMatch(/^prot: unknown option \(known: port, host, token, bodyLimitBytes, runtime, gateway, conflictRetries, logger, dialect\)$/);
    const two = await serve({ port: 0, hostname: '0.0.0.0', tokn: 'x' } as never).catch((e: unknown) => e);
    expect(two).toBeInstanceOf(ConfigurationError);
    expect((two as ConfigurationError).field).toBe('hostname, tokn');
    // Even when the value is undefined: a misspelt option is a mistake whatever it holds.
    await expect(serve({ port: 0, bodyLimit: undefined } as never)).rejects.toThrow(/^bodyLimit: unknown option/);
    await expect(serve(null as never)).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('reports an address this machine does not have under host, a port in use under port', async () => {
    // 192.0.2.1 is a documentation address (RFC 5737): no interface has it, so bind() fails here, sending nothing.
    const error = await serve({ port: 0, host: '192.0.2.1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).field).toBe('host');
    expect((error as Error).message).toMatch(/^host: cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL/);

    const taken = await start({ port: 0 });
    const inUse = await serve({ port: taken.port }).catch((e: unknown) => e);
    expect((inUse as ConfigurationError).field).toBe('port');
    expect((inUse as Error).message).toMatch(/^port: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  it('close() stops accepting, ends keep-alive connections, and leaves the runtime running', async () => {
    const server = await serve({ port: 0 });
    const client = connect({ url: server.url, timeoutMs: 2000 });
    await client.put(Counter, 'c1', { entries: { count: 1 } });
    // The client's keep-alive connection is idle now; close() must not wait for it (it would be cut after timeoutMs).
    const timeoutMs = 8000;
    const started = Date.now();
    await server.close({ timeoutMs });
    expect(Date.now() - started).toBeLessThan(timeoutMs / 2);
    await expect(client.get(Counter, 'c1')).rejects.toMatchObject({ code: 'OAAS_ERR_REMOTE_UNREACHABLE' });
    await server.close();
    expect((await healthCheck()).ok).toBe(true);
    expect((await Counter.load('c1')).count).toBe(1);
    // The port is free again.
    await new Promise<void>((resolve, reject) => {
      const probe = createServer().once('error', reject).listen(server.port, '127.0.0.1', () => probe.close(() => resolve()));
    });
  });

  it('close() cuts a stream still running after timeoutMs; the object keeps its last checkpoint', async () => {
    const server = await serve({ port: 0 });
    const client = connect({ url: server.url });
    await client.put(Counter, 'long', { entries: {} });
    const seen: number[] = [];
    const reading = (async () => {
      for await (const value of client.ref(Counter, 'long').progress(10_000, 10)) seen.push(value);
    })().catch((e: unknown) => e);
    while (seen.length < 2) await sleep(5);
    await server.close({ timeoutMs: 50 });
    const error = await reading;
    expect(error).toBeInstanceOf(OaasError);
    // The stream's turn is released: a local call gets the object at once.
    const counter = await Counter.load('long');
    await counter.noop();
    expect(counter.count).toBeGreaterThanOrEqual(2);
    expect(counter.count).toBeLessThan(100);
    expect(counter.history).toHaveLength(counter.count - 1);
  });
});

describe('createApp', () => {
  it('refuses bad options with ConfigurationError', () => {
    expect(() => createApp({ token: '' })).toThrow(ConfigurationError);
    expect(() => createApp({ bodyLimitBytes: -5 })).toThrow(ConfigurationError);
    expect(() => createApp(null as unknown as object)).toThrow(ConfigurationError);
  });

  it('refuses unknown options, naming them; serve()-only options are unknown here', () => {
    expect(() => createApp({ tokem: 'x' } as never)).toThrow(/^tokem: unknown option \(known: token, bodyLimitBytes, runtime, gateway, conflictRetries, logger, dialect\)$/);
    expect(() => createApp({ port: 8080, host: '0.0.0.0' } as never)).toThrow(/^port, host: unknown options/);
  });

  it('hands the gateway the decoded target, the raw body, the idempotency key and the trace context', async () => {
    const calls: InvokeCall[] = [];
    const recording = {
      invoke: (call: InvokeCall) => {
        calls.push(call);
        return Promise.resolve({ kind: 'value', value: undefined });
      },
    } as unknown as Gateway;
    const app = createApp({ gateway: recording });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const reply = await app.request('/api/class/a.B/7/objects/x%3Ay/invokes/m', {
      method: 'POST',
      body: '[1,2]',
      headers: { 'idempotency-key': 'k1', traceparent, tracestate: 'vendor=1' },
    });
    expect([reply.status, await reply.text()]).toEqual([200, 'null']);
    await app.request('/api/class/a.B/0/invokes/s', { method: 'POST' });
    expect(calls).toEqual([
      { clsId: 'a.B', partitionId: 7, objectId: 'x:y', method: 'm', body: '[1,2]', idempotencyKey: 'k1', traceparent, tracestate: 'vendor=1' },
      { clsId: 'a.B', partitionId: 0, method: 's', body: '', idempotencyKey: undefined, traceparent: undefined, tracestate: undefined },
    ]);
  });

  it('answers an unexpected failure with a generic 500, and logs it', async () => {
    const { logger, lines } = captureLogs();
    const failing = {
      invoke: () => Promise.reject(new Error('database password is hunter2')),
      getState: () => Promise.reject(new TypeError('x is undefined')),
      putState: () => Promise.reject(new Error('no')),
      deleteObject: () => Promise.reject(new Error('no')),
      list: () => Promise.reject(new Error('no')),
      ready: () => Promise.reject(new Error('no')),
    } as unknown as Gateway;
    const app = createApp({ gateway: failing, logger });
    const reply = await app.request('/api/class/a.B/0/objects/x/invokes/m', { method: 'POST' });
    expect(reply.status).toBe(500);
    expect(await reply.json()).toEqual({ error: { code: 'OAAS_ERR_SERVER_INTERNAL', message: 'internal server error' } });
    expect((await app.request('/api/class/a.B/0/objects/x')).status).toBe(500);
    expect((await app.request('/readyz')).status).toBe(503);
    expect(lines.filter((l) => l.msg === 'request failed unexpectedly')).toHaveLength(2);
    expect(JSON.stringify(lines)).toContain('hunter2');
  });
});
