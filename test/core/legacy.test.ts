import { describe, expect, it, vi } from 'vitest';
import {
  LegacySessionAdapter,
  OaasObject,
  Oparaca,
  getAutoSessionManager,
  getGlobalOaas,
  newSession,
  type InvocationResponse,
} from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const oaas = new Oparaca();
const Greeter = oaas.newCls('Greeter', 'legacy');

@Greeter
class GreeterObj extends OaasObject {
  greeting = 'hello';
  greeted: string[] = [];

  @Greeter.func()
  async greet(name: string): Promise<string> {
    this.greeted.push(name);
    return `${this.greeting} ${name}`;
  }

  @Greeter.func()
  async setGreeting(greeting: string, punctuation: string): Promise<void> {
    this.greeting = `${greeting}${punctuation}`;
  }

  @Greeter.func({ stateless: true })
  async shout(text: string): Promise<string> {
    return text.toUpperCase();
  }

  @Greeter.func()
  async fail(): Promise<void> {
    throw new TypeError('no greeting today');
  }
}

const json = (r: InvocationResponse): unknown => (r.payload === undefined ? undefined : JSON.parse(new TextDecoder().decode(r.payload)));

describe('legacy manual sessions', () => {
  it('commits what was created, changed and deleted through the adapter, atomically, on commit()', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const setup = newSession();
    setup.createObject(Counter, 'gone');
    await setup.commit();
    store.batches.length = 0;

    const session = newSession();
    expect(session).toBeInstanceOf(LegacySessionAdapter);
    const c = session.createObject(Counter, 'made');
    c.count = 4; // a plain write from the caller's context still belongs to the adapter's object
    const g = session.createObject<GreeterObj>(Greeter, 'g1');
    await g.greet('ada');
    session.deleteObject(Counter, 'gone');
    expect(session.localObjDict.size).toBe(2);
    expect(session.deleteObjSet.has('test.Counter/0/gone')).toBe(true);
    await session.commit();
    expect(store.batches).toHaveLength(1);
    expect(store.batches[0]!.map((op) => `${op.kind}:${op.key.objectId}`).sort()).toEqual(['delete:gone', 'put:g1', 'put:made']);
    expect(session.deleteObjSet.size).toBe(0);

    c.count = 5;
    await session.commitAsync();
    expect(entryValue(await store.get(c.asRef()), 'count')).toBe(5);
  });

  it('keeps two adapters apart: one commit never writes the other adapter`s pending objects', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const first = newSession();
    const second = newSession(2);
    first.createObject(Counter, 'first-only');
    const mine = second.createObject(Counter, 'second-only');
    expect(mine.partitionId).toBe(2);
    await first.commit();
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['first-only']);
    await second.commit();
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['first-only', 'second-only']);
  });

  it('is committed by auto-commit too when it is enabled', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      const store = new RecordingStore();
      await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 100 });
      newSession().createObject(Counter, 'auto-legacy');
      await vi.advanceTimersByTimeAsync(99);
      expect(store.batches).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      await getAutoSessionManager().settled();
      expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['auto-legacy']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('invokes methods in process with the platform request and response shapes', async () => {
    await freshRuntime();
    const session = getGlobalOaas().newSession();
    session.createObject(GreeterObj, 'g2');
    const ok = await session.objRpc({ clsId: 'legacy.Greeter', partitionId: 0, objectId: 'g2', fnId: 'greet', payload: '"bob"' });
    expect(ok.status).toBe('OKAY');
    expect(json(ok)).toBe('hello bob');
    const two = await session.objRpcAsync({
      clsId: 'legacy.Greeter',
      partitionId: 0,
      objectId: 'g2',
      fnId: 'setGreeting',
      payload: new TextEncoder().encode('["hi", "!"]'),
    });
    expect(two.status).toBe('OKAY');
    expect(json(await session.invokeLocal({ clsId: 'legacy.Greeter', partitionId: 0, objectId: 'g2', fnId: 'greet', payload: '"eve"' }))).toBe('hi! eve');
    const stateless = await session.fnRpc({ clsId: 'legacy.Greeter', partitionId: 0, fnId: 'shout', payload: '"quiet"' });
    expect(json(stateless)).toBe('QUIET');
    const appError = await session.fnRpcAsync({ clsId: 'legacy.Greeter', partitionId: 0, objectId: 'g2', fnId: 'fail' });
    expect(appError.status).toBe('APP_ERROR');
    expect(json(appError)).toEqual({ error_type: 'TypeError', error_message: 'no greeting today' });
    expect((await session.invokeLocalAsync({ clsId: 'legacy.Nope', partitionId: 0, fnId: 'x' })).status).toBe('INVALID_REQUEST');
    expect((await session.objRpc({ clsId: 'legacy.Greeter', partitionId: 0, objectId: 'g2', fnId: 'nope' })).status).toBe('INVALID_REQUEST');
  });

  it('exposes its partition, registry, store and rpc manager', async () => {
    await freshRuntime();
    const session = newSession(4);
    expect(session.partitionId).toBe(4);
    expect(session.localOnly).toBe(true);
    expect(session.metaRepo.get('legacy.Greeter')?.ctor).toBe(GreeterObj);
    expect(session.remoteObjDict.size).toBe(0);
    const loaded = session.createObject(Greeter, 'g4');
    await session.commit();
    expect((await session.dataManager.get(loaded.asRef()))?.version).toBe(1);
    const r = await session.rpcManager.invoke({ clsId: 'legacy.Greeter', partitionId: 4, objectId: 'g4', fnId: 'greet', payload: '"x"' });
    expect(r.status).toBe('OKAY');
    const reloaded = await newSession(4).loadObject(Greeter, 'g4');
    expect(reloaded).toBe(loaded);
  });

  it('configures the runtime from Oparaca options', async () => {
    const custom = new Oparaca({ mockMode: true, config: { autoCommit: false, logLevel: 'silent' } });
    await custom.ready();
    expect(getAutoSessionManager().autoCommitEnabled).toBe(false);
    expect(getAutoSessionManager().storeView.name).toBe('memory');
  });
});
