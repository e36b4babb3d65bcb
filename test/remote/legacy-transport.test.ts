// remoteInvoke(): the manual API's remote transport answers as the in-process dispatcher does.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { remoteInvoke } from '../../src/legacy/legacy-transport.js';
import {
  configureOaas,
  getAutoSessionManager,
  newSession,
  type InvocationRequest,
  type InvocationResponse,
} from '../../src/index.js';
import { dispatchLocal } from '../../src/invocation/dispatcher.js';
import { serve, type RunningServer } from '../../src/server/serve.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, holdInScope, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from './fixtures/services.js';

shutdownAfterEach();

const decode = (response: InvocationResponse): unknown =>
  response.payload === undefined ? undefined : (JSON.parse(new TextDecoder().decode(response.payload)) as unknown);

const request = (fnId: string, payload?: string, objectId = 'remote', clsId = 'remote.Counter'): InvocationRequest => ({
  clsId,
  partitionId: 0,
  objectId,
  fnId,
  payload,
});

describe('remoteInvoke', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ port: 0, token: 'legacy-token' });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    await freshRuntime();
    Counter.create({ count: 1 }, { id: 'remote' });
    Counter.create({ count: 1 }, { id: 'local' });
    await getAutoSessionManager().commitAll();
  });

  const remote = () => ({ url: server.url, token: 'legacy-token' });

  it('answers OKAY with the JSON result, or without a payload for a void method', async () => {
    const ok = await remoteInvoke(remote(), request('increment', '2'));
    expect([ok.status, decode(ok)]).toEqual(['OKAY', 3]);
    expect(await remoteInvoke(remote(), request('noop'))).toEqual({ status: 'OKAY' });
    const stateless = await remoteInvoke(remote(), { clsId: 'remote.Counter', partitionId: 0, fnId: 'shout', payload: new TextEncoder().encode('"hi"') });
    expect(decode(stateless)).toBe('HI');
    const idempotent = { ...request('increment', '5'), options: { 'Idempotency-Key': 'once' } };
    expect(decode(await remoteInvoke(remote(), idempotent))).toBe(8);
    expect(decode(await remoteInvoke(remote(), idempotent))).toBe(8);
    const streamed = await remoteInvoke(remote(), request('progress', '[2]'));
    expect(decode(streamed)).toEqual([9, 10]);
  });

  it('gives the same statuses and error bodies as the in-process dispatcher', async () => {
    const cases: [string, (objectId: string) => InvocationRequest][] = [
      ['ok', (id) => request('increment', '1', id)],
      ['app error', (id) => request('fail', '"nope"', id)],
      ['unknown class', (id) => request('increment', '1', id, 'remote.Nope')],
      ['unknown method', (id) => request('nope', undefined, id)],
      ['missing object', () => request('increment', '1', 'missing')],
      ['bad JSON', (id) => request('increment', '{', id)],
      ['no object for a stateful method', () => ({ clsId: 'remote.Counter', partitionId: 0, fnId: 'increment', payload: '1' })],
      ['bad partition', (id) => ({ ...request('increment', '1', id), partitionId: -1 })],
    ];
    for (const [label, make] of cases) {
      const here = await getAutoSessionManager().runInSession(() => dispatchLocal(getAutoSessionManager(), make('local')));
      await getAutoSessionManager().commitAll();
      const there = await remoteInvoke(remote(), make('remote'));
      expect(there.status, label).toBe(here.status);
      if (here.status === 'OKAY') expect(decode(there), label).toEqual(decode(here));
      if (here.status === 'APP_ERROR') {
        expect(decode(there), label).toEqual(decode(here));
        expect(decode(there)).toEqual({ error_type: 'RangeError', error_message: 'nope' });
      }
    }
  });

  it('reports platform failures as SYSTEM_ERROR: unreachable server, wrong token, lock timeout', async () => {
    const down = await remoteInvoke({ url: 'http://127.0.0.1:9' }, request('increment', '1'));
    expect(down.status).toBe('SYSTEM_ERROR');
    expect(decode(down)).toMatchObject({ error_type: 'RemoteError', code: 'OAAS_ERR_REMOTE_UNREACHABLE' });
    const denied = await remoteInvoke({ url: server.url, token: 'wrong' }, request('increment', '1'));
    expect([denied.status, (decode(denied) as { code: string }).code]).toEqual(['SYSTEM_ERROR', 'OAAS_ERR_AUTH_REQUIRED']);

    await freshRuntime({ lockTimeoutMs: 30 });
    Counter.create({}, { id: 'held' });
    await getAutoSessionManager().commitAll();
    const { release, done: scope } = await holdInScope(() => Counter.load('held'));
    try {
      const busy = await remoteInvoke(remote(), request('increment', '1', 'held'));
      expect([busy.status, (decode(busy) as { code: string }).code]).toEqual(['SYSTEM_ERROR', 'OAAS_ERR_LOCK_TIMEOUT']);
    } finally {
      release();
      await scope;
    }
  });

  it('never throws, even for a malformed request', async () => {
    const bad = await remoteInvoke(remote(), { clsId: 3 } as unknown as InvocationRequest);
    expect(bad.status).toBe('INVALID_REQUEST');
    expect(decode(bad)).toMatchObject({ error_type: 'InvalidArgumentError', code: 'OAAS_ERR_ARGUMENT_INVALID' });
  });
});

// With a remote url configured, LegacySessionAdapter routes objRpc/fnRpc through remoteInvoke.
describe('the manual API with a remote url', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serve({ port: 0, token: 'legacy-token' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('invokes objRpc and fnRpc (and their Async forms) through the server', async () => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent', url: server.url, token: 'legacy-token' });
    Counter.create({ count: 1 }, { id: 'wired' });
    await getAutoSessionManager().commitAll();
    const session = newSession();
    expect(session.localOnly).toBe(false);
    const ok = await session.objRpc(request('increment', '2', 'wired'));
    expect([ok.status, decode(ok)]).toEqual(['OKAY', 3]);
    expect(decode(await session.fnRpcAsync({ clsId: 'remote.Counter', partitionId: 0, fnId: 'shout', payload: '"a"' }))).toBe('A');
    expect((await session.objRpcAsync(request('fail', '"x"', 'wired'))).status).toBe('APP_ERROR');
    expect((await session.rpcManager.invoke(request('increment', '1', 'wired'))).status).toBe('OKAY');
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    expect(newSession().localOnly).toBe(true);
  });
});

describe('a process with OAAS_URL and no store asked for', () => {
  let server: RunningServer;
  const folders: string[] = [];
  beforeAll(async () => {
    server = await serve({ port: 0 });
  });
  afterAll(async () => {
    await server.close();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await freshRuntime();
    Counter.create({ count: 1 }, { id: 'from-child' });
    await getAutoSessionManager().commitAll();
  });

  async function run(mode: 'remote' | 'local'): Promise<{ dir: string; lines: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'oaas-remote-only-'));
    folders.push(dir);
    const child = new TsChild(new URL('./fixtures/remote-only.ts', import.meta.url), [dir, mode], {
      OAAS_URL: server.url,
      OAAS_STORE: '',
      OAAS_MOCK_MODE: '',
      OAAS_LOG_LEVEL: 'silent',
    });
    const [code] = await child.exit();
    expect(code, child.stderr).toBe(0);
    return { dir, lines: child.lines };
  }

  it('invokes through the server and creates no local store file or folder', async () => {
    const { dir, lines } = await run('remote');
    expect(lines).toEqual(['rpc OKAY 3']);
    expect((await Counter.load('from-child', { fresh: true })).count).toBe(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('creates the default store at the first local commit', async () => {
    const { dir, lines } = await run('local');
    expect(lines).toEqual(['rpc OKAY 3', 'committed']);
    expect(existsSync(join(dir, '.oaas', 'state.db'))).toBe(true);
  });
});
