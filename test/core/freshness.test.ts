import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, PendingChangesError, StoreError, commitAll, getAutoSessionManager, healthCheck, runInSession } from '../../src/index.js';
import { serve } from '../../src/server/serve.js';
import { TsChild } from '../support/child.js';
import { RecordingStore } from '../support/recording-store.js';
import { expectFailedShutdown, freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** Writes `count` as another process would: straight to the store, bumping the version. */
async function writeBehindBack(store: RecordingStore, id: string, version: number, count: number): Promise<void> {
  await store.inner.apply([{ kind: 'put', key: { clsId: 'test.Counter', partitionId: 0, objectId: id }, expectedVersion: version, set: new Map([['count', encode(count)]]) }]);
}

/** Runs one change (or read) in another process on the same store and returns the line it printed. */
async function inOtherProcess(store: string, ...args: string[]): Promise<string> {
  const child = new TsChild(new URL('../fixtures/counter-edit.ts', import.meta.url), [store, ...args]);
  const [code] = await child.exit(30_000);
  expect(code, child.stderr).toBe(0);
  return child.lines.at(-1) ?? '';
}

describe('freshness across two real processes (one SQLite file)', () => {
  it('refresh() and load({ fresh }) re-read what the other process committed; the other process reads ours', { timeout: 60_000 }, async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    const c = Counter.create({ count: 1 }, { id: 'shared' });
    await commitAll();
    expect(await inOtherProcess(store, 'set', 'shared', '40')).toBe('version 2');
    expect((await Counter.load('shared')).count).toBe(1); // a plain load keeps the live instance
    await c.refresh();
    expect([c.count, c.version]).toEqual([40, 2]);
    expect(await c.increment(2)).toBe(42);
    await commitAll();
    expect(await inOtherProcess(store, 'get', 'shared')).toBe('count 42 version 3');
    expect(await inOtherProcess(store, 'set', 'shared', '7')).toBe('version 4');
    const fresh = await Counter.load('shared', { fresh: true });
    expect([fresh === c, fresh.count, fresh.version]).toEqual([true, 7, 4]);
  });

  it('refresh() of an object the other process deleted rejects with ObjectNotFoundError', { timeout: 60_000 }, async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'vanished' });
    await commitAll();
    expect(await inOtherProcess(store, 'delete', 'vanished')).toBe('deleted');
    await expect(c.refresh()).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('GET state over HTTP re-reads what the other process committed', { timeout: 60_000 }, async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    Counter.create({ count: 1 }, { id: 'remote-read' });
    await commitAll();
    const server = await serve({ port: 0 });
    try {
      expect(await inOtherProcess(store, 'set', 'remote-read', '77')).toBe('version 2');
      const reply = await fetch(`${server.url}/api/class/test.Counter/0/objects/remote-read`);
      expect(reply.status).toBe(200);
      expect(await reply.json()).toMatchObject({ version: 2, entries: { count: 77 } });
    } finally {
      await server.close();
    }
  });
});

describe('freshness across processes (the other process simulated by writes behind the runtime)', () => {
  it('refresh() re-reads an object another process changed', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({ count: 1 }, { id: 'shared' });
    await commitAll();
    await writeBehindBack(store, 'shared', 1, 40);
    expect(c.count).toBe(1);
    await c.refresh();
    expect([c.count, c.version]).toEqual([40, 2]);
    expect(await c.increment(2)).toBe(42);
    await commitAll();
    expect(c.version).toBe(3);
  });

  it('refuses to refresh over changes not yet committed, and load({ fresh }) keeps them', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({ count: 1 }, { id: 'dirty' });
    await commitAll();
    await writeBehindBack(store, 'dirty', 1, 40);
    c.count = 2;
    await expect(c.refresh()).rejects.toBeInstanceOf(PendingChangesError);
    expect((await Counter.load('dirty', { fresh: true })).count).toBe(2);
    expectFailedShutdown(); // the kept change conflicts with the other process's write
  });

  it('load({ fresh: true }) re-reads a clean live instance; a plain load does not', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({ count: 1 }, { id: 'loaded' });
    await commitAll();
    await writeBehindBack(store, 'loaded', 1, 9);
    expect((await Counter.load('loaded')).count).toBe(1);
    const fresh = await Counter.load('loaded', { fresh: true });
    expect(fresh).toBe(c);
    expect(fresh.count).toBe(9);
  });

  it('refresh() of an object deleted elsewhere rejects with ObjectNotFoundError', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'vanished' });
    await commitAll();
    await store.inner.apply([{ kind: 'delete', key: c.asRef() }]);
    await expect(c.refresh()).rejects.toBeInstanceOf(ObjectNotFoundError);
  });
});

describe('back-pressure', () => {
  it('makes new calls wait while too many objects wait for a commit, and lets them run once the store catches up', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store, maxPendingObjects: 3 });
    const counters = Array.from({ length: 3 }, (_, i) => Counter.create({}, { id: `bp-${i}` }));
    expect(getAutoSessionManager().pendingObjectCount).toBe(3);
    const extra = Counter.create({}, { id: 'bp-extra' });
    let ran = false;
    const waiting = runInSession(async () => {
      await extra.increment();
      ran = true;
    });
    await sleep(20);
    expect(ran).toBe(false);
    await commitAll();
    await waiting;
    expect(ran).toBe(true);
    expect(counters[0]!.version).toBe(1);
  });
});

describe('healthCheck', () => {
  it('reports the store, pending objects and the age of the oldest pending change', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    Counter.create({}, { id: 'h1' });
    await sleep(15);
    const report = await healthCheck();
    expect(report.ok).toBe(true);
    expect(report.store.reachable).toBe(true);
    expect(report.store.name).toBe('recording');
    expect(report.pendingObjects).toBe(1);
    expect(report.oldestPendingAgeMs).toBeGreaterThanOrEqual(10);
    await commitAll();
    expect((await healthCheck()).pendingObjects).toBe(0);
    expect((await healthCheck()).oldestPendingAgeMs).toBe(0);
  });

  it('says the store is unreachable instead of throwing', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const original = store.get.bind(store);
    store.get = () => Promise.reject(new StoreError('connection refused', { transient: true }));
    const report = await healthCheck();
    expect(report.ok).toBe(false);
    expect(report.store).toMatchObject({ reachable: false, error: 'connection refused' });
    store.get = original;
  });
});

describe('state reads over the gateway', () => {
  it('GET state re-reads an object another process changed', async () => {
    const { Gateway } = await import('../../src/invocation/gateway.js');
    const store = new RecordingStore();
    await freshRuntime({ store });
    Counter.create({ count: 1 }, { id: 'remote-read' });
    await commitAll();
    await writeBehindBack(store, 'remote-read', 1, 77);
    const state = await new Gateway(getAutoSessionManager).getState('test.Counter', 0, 'remote-read');
    expect(state).toMatchObject({ version: 2, entries: { count: 77 } });
  });
});
