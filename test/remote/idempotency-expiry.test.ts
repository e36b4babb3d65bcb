// Idempotency records (the first result of a call with a key) expire after
// idempotencyRetentionMs, as a reminder on the record; on a store without a
// wake index, or with a retention of null, they are kept for good.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig, type OaasConfig } from '../../src/config.js';
import { Gateway } from '../../src/invocation/gateway.js';
import { IdempotencyRecord } from '../../src/runtime/idempotency.js';
import { OaasRuntime } from '../../src/runtime/oaas-runtime.js';
import { tempSqlite, tick } from '../support/runtime.js';
import { storeWithoutWakeIndex } from '../support/unindexed-store.js';
import './fixtures/services.js';

let runtime: OaasRuntime | undefined;
afterEach(async () => {
  await runtime?.shutdown();
  runtime = undefined;
});

async function start(config: OaasConfig): Promise<{ gateway: Gateway; records: () => Promise<string[]> }> {
  const own = new OaasRuntime(resolveConfig({ autoCommit: false, logLevel: 'silent', reminders: { pollIntervalMs: 20 }, ...config }));
  runtime = own;
  await own.ready();
  await tick(); // the wake service learns what the store can keep
  const gateway = new Gateway(() => own);
  await gateway.putState('remote.Counter', 0, 'c', { entries: { count: 0 } });
  return { gateway, records: async () => (await own.storeView.list('oaas.Idempotency', 0)).objects.map((o) => o.objectId) };
}

const increment = (gateway: Gateway, key: string): Promise<unknown> =>
  gateway.invoke({ clsId: 'remote.Counter', partitionId: 0, objectId: 'c', method: 'increment', body: '1', idempotencyKey: key });

/** The reminders a stored record carries, read through the runtime that wrote it. */
async function remindersOf(id: string): Promise<string[]> {
  return runtime!.sessionScope(async () => ((await runtime!.load(IdempotencyRecord, id, undefined)) as IdempotencyRecord).schedules.map((s) => `${s.name} ${s.method}`));
}

/** Waits (bounded, in real time) until `probe` holds. */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('idempotency records', () => {
  it('expire after idempotencyRetentionMs; a repeat of the key after that runs the call again', async () => {
    const { gateway, records } = await start({ store: tempSqlite(), idempotencyRetentionMs: 200 });
    expect(await increment(gateway, 'k1')).toEqual({ kind: 'value', value: 1 });
    expect(await increment(gateway, 'k1')).toEqual({ kind: 'value', value: 1 });
    const [id] = await records();
    expect(await remindersOf(id!)).toEqual(['expire expire']);
    await until(async () => (await records()).length === 0, 'the record to expire');
    expect(await increment(gateway, 'k1')).toEqual({ kind: 'value', value: 2 });
  });

  it('are kept for good with idempotencyRetentionMs null', async () => {
    const { gateway, records } = await start({ store: tempSqlite(), idempotencyRetentionMs: null });
    await increment(gateway, 'k1');
    const [id] = await records();
    expect(await remindersOf(id!)).toEqual([]);
  });

  it('are kept for good, and the call works, on a store that keeps no wake times', async () => {
    const { gateway, records } = await start({ store: storeWithoutWakeIndex(), idempotencyRetentionMs: 200 });
    expect(await increment(gateway, 'k1')).toEqual({ kind: 'value', value: 1 });
    const [id] = await records();
    expect(await remindersOf(id!)).toEqual([]);
    expect(await increment(gateway, 'k1')).toEqual({ kind: 'value', value: 1 });
  });
});
