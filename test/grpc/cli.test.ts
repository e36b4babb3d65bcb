// `oaas serve --grpc` as the platform runs it: a child process serving oprc.OprcFunction on a SQLite file,
// stopped by SIGTERM the way the HTTP server is (calls in flight finish, then the runtime flushes and closes).
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args.js';
import { decodeState } from '../../src/object/codec.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { TsChild } from '../support/child.js';
import { tempSqlite } from '../support/runtime.js';
import { json, oprcClient, type OprcFunctionClient } from './support.js';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const services = 'test/grpc/fixtures/services.ts';
const CLS = 'e2e-ts-test.TsCounter';
const text = (value: string) => Buffer.from(value, 'utf8');

const children: TsChild[] = [];
const clients: OprcFunctionClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const child of children.splice(0)) {
    child.signal('SIGKILL');
    await child.exit(5000);
  }
});

function start(args: readonly string[], env: NodeJS.ProcessEnv): TsChild {
  const child = new TsChild(cli, args, { OAAS_LOG_LEVEL: 'silent', ...env });
  children.push(child);
  return child;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

async function storedCount(spec: string, objectId: string): Promise<unknown> {
  const store = new SqliteStore({ path: spec.slice('sqlite:'.length) });
  await store.open();
  try {
    const object = await store.get({ clsId: CLS, partitionId: 0, objectId });
    const bytes = object?.entries.get('count');
    return bytes === undefined ? undefined : decodeState(Buffer.from(bytes).toString('utf8'));
  } finally {
    await store.close();
  }
}

describe('oaas serve --grpc (child process)', () => {
  it('serves InvokeObj on HTTP_PORT, lets a call in flight finish on SIGTERM, flushes and exits 0', async () => {
    const spec = tempSqlite();
    const child = start(['serve', services, '--grpc'], { OAAS_STORE: spec, HTTP_PORT: '0' });
    await child.waitFor((line) => line.startsWith('listening on '), 30_000);
    const url = child.lines.find((line) => line.startsWith('listening on '))!.slice('listening on '.length);
    expect(url).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    const client = oprcClient(url.slice('grpc://'.length));
    clients.push(client);

    const call = { cls_id: CLS, partition_id: 0, object_id: 'ts-counter-1', fn_id: 'increment', payload: text('{"amount": 5}') };
    expect(json(await client.invokeObj(call))).toBe(5);
    expect(json(await client.invokeObj(call))).toBe(10);

    const inFlight = client.invokeObj({ ...call, fn_id: 'slowIncrement', payload: text('{"amount": 1, "ms": 1500}') });
    await child.waitFor((line) => line === 'slow call started', 10_000);
    child.signal('SIGTERM');
    await until(() => child.stderr.includes('oaas serve: SIGTERM, stopping'));
    await sleep(200);
    // The server closed first: a new call is refused by the transport and never runs; the runtime is still open for the one in flight.
    const late = await client.invokeObj({ ...call, payload: text('{"amount": 100}') }).catch((error: unknown) => error as { code?: number });
    expect(late).toMatchObject({ code: grpc.status.UNAVAILABLE });
    const reply = await inFlight;
    expect(reply.status).toBe('OKAY');
    expect(json(reply)).toBe(11);
    const [code] = await child.exit(30_000);
    expect(code, child.stderr).toBe(0);
    expect(child.stderr).toContain('oaas serve: SIGTERM, stopping');
    expect(await storedCount(spec, 'ts-counter-1')).toBe(11);
  }, 60_000);

  it('refuses cluster mode, whose members call each other over HTTP', async () => {
    const child = start(['serve', services, '--grpc', '--port', '0'], { OAAS_STORE: tempSqlite(), OAAS_CLUSTER_URL: 'http://127.0.0.1:1' });
    const [code] = await child.exit(30_000);
    expect(code).toBe(1);
    expect(child.stderr).toContain('--grpc does not run in cluster mode (OAAS_CLUSTER_URL)');
  }, 60_000);

  it('exits 1 naming the port when it is taken', async () => {
    const spec = tempSqlite();
    const first = start(['serve', services, '--grpc', '--port', '0'], { OAAS_STORE: spec });
    await first.waitFor((line) => line.startsWith('listening on '), 30_000);
    const port = first.lines.find((line) => line.startsWith('listening on '))!.split(':').at(-1)!;
    const second = start(['serve', services, '--grpc', '--port', port], { OAAS_STORE: tempSqlite() });
    const [code] = await second.exit(30_000);
    expect(code).toBe(1);
    expect(second.stderr).toMatch(/oaas serve: port: cannot listen on 127\.0\.0\.1:\d+/);
  }, 60_000);
});

describe('parsing --grpc', () => {
  it('serves gRPC instead of HTTP, on --port, else HTTP_PORT, else 8080', () => {
    expect(parseCliArgs(['serve', 'm.js', '--grpc'])).toMatchObject({ command: 'serve', grpc: true, port: 8080 });
    expect(parseCliArgs(['serve', 'm.js', '--grpc'], { HTTP_PORT: '9090' })).toMatchObject({ grpc: true, port: 9090 });
    expect(parseCliArgs(['serve', 'm.js', '--grpc', '--port', '7070', '--host', '0.0.0.0'])).toMatchObject({ grpc: true, port: 7070, host: '0.0.0.0' });
    expect(parseCliArgs(['serve', 'm.js'])).toMatchObject({ grpc: false });
  });

  it('refuses a token with --grpc, which has none', () => {
    expect(parseCliArgs(['serve', 'm.js', '--grpc', '--token', 't'])).toEqual({
      command: 'usage-error',
      message: '--token applies to the HTTP server: the gRPC function runtime takes no token',
    });
  });
});
