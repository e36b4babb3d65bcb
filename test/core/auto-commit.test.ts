import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InvalidArgumentError,
  disableAutoCommit,
  enableAutoCommit,
  getAutoSessionManager,
  runInSession,
  sessionScope,
  setAutoCommitInterval,
} from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

describe('auto-commit', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('commits pending changes every interval, each session in one transaction', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 100 });
    await runInSession(() => {
      Counter.create({}, { id: 'one-a' });
      Counter.create({}, { id: 'one-b' });
    });
    await runInSession(() => Counter.create({}, { id: 'two' }));
    await vi.advanceTimersByTimeAsync(99);
    expect(store.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await getAutoSessionManager().settled();
    expect(store.batches.map((b) => b.map((op) => op.key.objectId).sort())).toEqual([['one-a', 'one-b'], ['two']]);
    expect(getAutoSessionManager().pendingObjectCount).toBe(0);
  });

  it('coalesces many changes between ticks into one write per object', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 100 });
    const c = Counter.create({}, { id: 'hot' });
    for (let i = 0; i < 1000; i++) await c.increment();
    await vi.advanceTimersByTimeAsync(100);
    await getAutoSessionManager().settled();
    for (let i = 0; i < 500; i++) await c.increment();
    await vi.advanceTimersByTimeAsync(100);
    await getAutoSessionManager().settled();
    expect(store.batches).toHaveLength(2);
    expect(c.version).toBe(2);
  });

  it('is switched off and on, and restarts its timer with a new interval', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 100 });
    disableAutoCommit();
    Counter.create({}, { id: 'off' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.batches).toHaveLength(0);
    enableAutoCommit();
    setAutoCommitInterval(500);
    await vi.advanceTimersByTimeAsync(499);
    expect(store.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await getAutoSessionManager().settled();
    expect(store.batches).toHaveLength(1);
    expect(() => setAutoCommitInterval(0)).toThrow(InvalidArgumentError);
  });

  it('never writes an object held by a running call or an open scope, and writes it afterwards', async () => {
    // The call's own wait (slowIncrement) runs on the faked global setTimeout too.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const store = new RecordingStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 10 });
    const c = Counter.create({}, { id: 'held-by-call' });
    const s = Counter.create({}, { id: 'held-by-scope' });
    await vi.advanceTimersByTimeAsync(40);
    // Changes waiting for the timer when the call and the scope take the objects.
    c.count = 7;
    s.count = 3;
    const before = store.batches.length;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const call = c.slowIncrement(60);
    const scope = sessionScope(async () => {
      await s.increment(5);
      await gate;
    });
    await vi.advanceTimersByTimeAsync(50);
    const written = store.batches.slice(before).flat().map((op) => op.key.objectId);
    expect(written).not.toContain('held-by-scope');
    expect(written).not.toContain('held-by-call');
    release();
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all([call, scope]);
    await vi.advanceTimersByTimeAsync(40);
    await getAutoSessionManager().settled();
    expect(store.batches.flat().filter((op) => op.key.objectId === 'held-by-call').length).toBeGreaterThan(1);
    expect((await store.get(s.asRef()))?.version).toBe(2);
  });
});

describe('natural exit', () => {
  it('flushes at beforeExit, and the timer does not keep the process alive', { timeout: 30_000 }, async () => {
    const store = tempSqlite();
    const child = new TsChild(new URL('../fixtures/exit-flush.ts', import.meta.url), [store.slice('sqlite:'.length), '5']);
    const [code] = await child.exit(20_000);
    expect(child.stderr).toBe('');
    expect(code).toBe(0);
    await freshRuntime({ store });
    expect((await Counter.load('exit-4')).count).toBe(4);
    expect((await Counter.load('exit-1')).count).toBe(101);
  });
});
