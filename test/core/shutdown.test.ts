import { describe, expect, it, vi } from 'vitest';
import {
  CommitError,
  ShutdownError,
  StoreError,
  commitAll,
  configureOaas,
  currentSession,
  getAutoSessionManager,
  runInSession,
  sessionScope,
  shutdown,
} from '../../src/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { RecordingStore } from '../support/recording-store.js';
import { expectFailedShutdown, freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter, sleep } from '../support/services.js';

shutdownAfterEach();

describe('shutdown', () => {
  it('waits for running calls and scopes, flushes every session, and closes the store', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'flushed' });
    await runInSession(() => Counter.create({ count: 3 }, { id: 'other-session' }));
    // The call's and the scope's waits run on the faked global setTimeout.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let closed = false;
    try {
      // The scope outlasts the call: the flush waits for the call's object, only the idle wait for the scope.
      const running = c.slowIncrement(30);
      const scope = sessionScope(async () => {
        const s = Counter.create({}, { id: 'from-scope' });
        await sleep(40);
        await s.increment(2);
      });
      await vi.advanceTimersByTimeAsync(5);
      const closing = shutdown().then(() => (closed = true));
      await vi.advanceTimersByTimeAsync(34);
      expect(closed).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await closing;
      expect(await running).toBe(1);
      await scope;
    } finally {
      vi.useRealTimers();
    }
    const written = store.batches.flat().map((op) => op.key.objectId).sort();
    expect(written).toEqual(['flushed', 'from-scope', 'other-session']);
    const op = store.batches.flat().find((o) => o.key.objectId === 'flushed');
    expect(op?.kind === 'put' ? new TextDecoder().decode(op.set?.get('count')) : undefined).toBe('1');
    // Closed once, after every batch of the flush.
    expect(store.closedAfter).toEqual([store.batches.length]);
  });

  it('is idempotent and makes later SDK calls reject with ShutdownError until configureOaas', async () => {
    await freshRuntime();
    const c = Counter.create({}, { id: 'after' });
    const first = shutdown();
    const second = shutdown();
    await Promise.all([first, second]);
    await shutdown();
    expect(() => Counter.create({}, { id: 'late' })).toThrow(ShutdownError);
    await expect(Counter.load('after')).rejects.toBeInstanceOf(ShutdownError);
    await expect(c.increment()).rejects.toBeInstanceOf(ShutdownError);
    expect(() => (c.count = 2)).toThrow(ShutdownError);
    await expect(commitAll()).rejects.toBeInstanceOf(ShutdownError);
    expect(() => currentSession()).toThrow(ShutdownError);
    await expect(sessionScope(() => 1)).rejects.toBeInstanceOf(ShutdownError);
    await expect(runInSession(() => 1)).rejects.toBeInstanceOf(ShutdownError);
    await configureOaas({ store: 'memory', logLevel: 'silent', autoCommit: false });
    expect(Counter.create({}, { id: 'after' }).count).toBe(0);
  });

  it('rejects with CommitError listing what is not persisted when the flush keeps failing', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'lost-cause' });
    await c.increment();
    store.failNext(100, () => new StoreError('read-only file system', { transient: false }));
    const error = await shutdown({ timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitError);
    expect((error as CommitError).unpersisted).toEqual([{ ref: c.asRef().toJSON(), fields: ['<created>'] }]);
    expect(getAutoSessionManager().isShutDown).toBe(true);
    expectFailedShutdown(); // shutdown() is idempotent: the teardown's call gets the same rejection
  });

  it('retries transient flush failures until its deadline', async () => {
    const store = new RecordingStore();
    const clock = new ManualClock();
    await freshRuntime({ store, autoCommitIntervalMs: 10, clock });
    Counter.create({}, { id: 'eventually' });
    store.failNext(3, () => new StoreError('busy', { transient: true }));
    let closed = false;
    const closing = shutdown({ timeoutMs: 2000 }).then(() => (closed = true));
    // Fails at 0, 10 and 30 ms; the back-off (10, 20, 40 ms) brings the fourth attempt at 70 ms.
    await clock.advance(69);
    expect(store.batches).toHaveLength(0);
    expect(closed).toBe(false);
    await clock.advance(1);
    expect(closed).toBe(true);
    await closing;
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['eventually']);
  });

  it('stops retrying when the next back-off would pass its deadline', async () => {
    const store = new RecordingStore();
    const clock = new ManualClock();
    await freshRuntime({ store, autoCommitIntervalMs: 10, clock });
    Counter.create({}, { id: 'out-of-time' });
    store.failNext(100, () => new StoreError('busy', { transient: true }));
    let outcome: unknown;
    const closing = shutdown({ timeoutMs: 100 }).then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = error),
    );
    // Attempts at 0, 10, 30 and 70 ms; the next wait (80 ms) would end past 100 ms, so it gives up at 70.
    await clock.advance(69);
    expect(outcome).toBeUndefined();
    await clock.advance(1);
    expect(outcome).toBeInstanceOf(CommitError);
    await closing;
    expect(store.batches).toHaveLength(0);
    expectFailedShutdown();
  });

  it('is what configureOaas does to the previous runtime: state survives a reconfiguration', async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    Counter.create({ count: 5 }, { id: 'carried' });
    await configureOaas({ store, logLevel: 'silent', autoCommit: false });
    expect((await Counter.load('carried')).count).toBe(5);
    expect(getAutoSessionManager().liveObjectCount).toBe(1);
  });
});
