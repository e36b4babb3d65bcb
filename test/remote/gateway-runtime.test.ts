// The gateway works on the runtime it is given, for every route: a gateway over a second runtime
// never reads or writes the process-wide one.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { MemoryStore, configureOaas, getAutoSessionManager } from '../../src/index.js';
import { Gateway } from '../../src/invocation/gateway.js';
import { createApp } from '../../src/server/app.js';
import { OaasRuntime } from '../../src/runtime/oaas-runtime.js';
import { shutdownAfterEach } from '../support/runtime.js';
import './fixtures/services.js';

shutdownAfterEach();

const key = (objectId: string) => ({ clsId: 'remote.Counter', partitionId: 0, objectId });
let other: OaasRuntime | undefined;
afterEach(async () => {
  await other?.shutdown();
  other = undefined;
});

describe('a gateway given a runtime', () => {
  it('creates, invokes, reads, lists and deletes through that runtime and its store only', async () => {
    const globalStore = new MemoryStore();
    await configureOaas({ store: globalStore, autoCommit: false, logLevel: 'silent' });
    const ownStore = new MemoryStore();
    other = new OaasRuntime(resolveConfig({ store: ownStore, autoCommit: false, logLevel: 'silent' }));
    await other.ready();
    const runtime = other;
    const gateway = new Gateway(() => runtime);

    await gateway.putState('remote.Counter', 0, 'mine', { entries: { count: 2 } });
    const outcome = await gateway.invoke({ clsId: 'remote.Counter', partitionId: 0, objectId: 'mine', method: 'increment', body: '3', idempotencyKey: 'k1' });
    expect(outcome).toEqual({ kind: 'value', value: 5 });
    expect((await gateway.getState('remote.Counter', 0, 'mine')).entries.count).toBe(5);
    expect((await gateway.list('remote.Counter', 0, {})).objects.map((o) => o.object_id)).toEqual(['mine']);

    expect((await ownStore.get(key('mine')))?.version).toBe(2);
    expect(await globalStore.get(key('mine'))).toBeUndefined();
    // The idempotency record went to the same store, in the same commit.
    const records = await ownStore.list('oaas.Idempotency', 0);
    expect(records.objects).toHaveLength(1);
    expect((await globalStore.list('oaas.Idempotency', 0)).objects).toHaveLength(0);
    expect(getAutoSessionManager().liveObjectCount).toBe(0);

    await gateway.deleteObject('remote.Counter', 0, 'mine');
    expect(await ownStore.get(key('mine'))).toBeUndefined();
  });

  it('serves that runtime over HTTP too, /metrics included', async () => {
    await configureOaas({ store: new MemoryStore(), autoCommit: false, logLevel: 'silent' });
    const ownStore = new MemoryStore();
    other = new OaasRuntime(resolveConfig({ store: ownStore, autoCommit: false, logLevel: 'silent' }));
    const runtime = other;
    const app = createApp({ runtime: () => runtime });
    const put = await app.request('/api/class/remote.Counter/0/objects/served', { method: 'PUT', body: JSON.stringify({ entries: { count: 1 } }) });
    expect(put.status).toBe(200);
    const invoked = await app.request('/api/class/remote.Counter/0/objects/served/invokes/increment', { method: 'POST', body: '1' });
    expect(await invoked.json()).toBe(2);
    expect((await ownStore.get(key('served')))?.version).toBe(2);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/oaas_commits_total\S* 2/);
  });
});
