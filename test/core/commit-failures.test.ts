import { describe, expect, it } from 'vitest';
import {
  CommitError,
  ConflictError,
  StoreError,
  commitAll,
  configureOaas,
  currentSession,
  getAutoSessionManager,
  onCommitError,
  runInSession,
  type CommitErrorEvent,
} from '../../src/index.js';
import { captureLogs } from '../support/logs.js';
import { ManualClock } from '../support/manual-clock.js';
import { RecordingStore } from '../support/recording-store.js';
import { shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const transient = () => new StoreError('database is busy', { transient: true });

describe('a failed commit loses nothing', () => {
  it('keeps changes pending, reports and logs the failure, and retries with back-off until it succeeds', async () => {
    const store = new RecordingStore();
    const { logger, lines } = captureLogs();
    const clock = new ManualClock();
    await configureOaas({ store, logger, autoCommit: true, autoCommitIntervalMs: 20, clock });
    const events: CommitErrorEvent[] = [];
    const unsubscribe = onCommitError((e) => events.push(e));
    store.failNext(3, transient);
    const sessionId = await runInSession(() => {
      Counter.create({ count: 1 }, { id: 'retry-me' });
      return currentSession().id;
    });
    // Ticks every 20 ms: the first fails at 20, then back-off 20, 40, 80 ms: failures at 40 and 80, success at 160.
    await clock.advance(20);
    expect(events).toHaveLength(1);
    await clock.advance(20);
    expect(events).toHaveLength(2);
    await clock.advance(39);
    expect(events).toHaveLength(2);
    await clock.advance(1);
    expect(events).toHaveLength(3);
    await clock.advance(79);
    expect(store.batches).toHaveLength(0);
    await clock.advance(1);
    await getAutoSessionManager().settled();
    expect(store.batches).toHaveLength(1);
    expect(events).toHaveLength(3);
    expect(events[0]!.error).toBeInstanceOf(StoreError);
    expect(events[0]!.willRetry).toBe(true);
    expect(events[0]!.sessionId).toBe(sessionId);
    expect(events[0]!.refs.map((r) => r.objectId)).toEqual(['retry-me']);
    const failures = lines.filter((l) => l.msg === 'commit failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]).toMatchObject({ level: 50, session: sessionId, objects: ['test.Counter/0/retry-me'], code: 'OAAS_ERR_STORE_FAILED', background: true });
    expect(typeof failures[0]!.durationMs).toBe('number');
    const retries = lines.filter((l) => l.msg === 'commit will be retried');
    expect(retries.map((l) => l.attempt)).toEqual([1, 2, 3]);
    expect(retries.map((l) => l.retryInMs)).toEqual([20, 40, 80]);
    expect(retries[1]).toMatchObject({ level: 40, session: sessionId, retryInMs: 40 });
    expect((await store.get({ clsId: 'test.Counter', partitionId: 0, objectId: 'retry-me' }))?.version).toBe(1);
    unsubscribe();
  });

  it('rejects an explicit commit with the store error and keeps the changes for the next commit', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    const c = Counter.create({}, { id: 'explicit' });
    await c.increment(2);
    store.failNext(1, () => new StoreError('disk full', { transient: false }));
    await expect(currentSession().commit()).rejects.toThrow('disk full');
    expect(currentSession().pendingCount).toBe(1);
    const result = await currentSession().commit();
    expect(result.committed).toHaveLength(1);
    expect(c.version).toBe(1);
  });

  it('wraps a foreign error from a custom store into a StoreError with the cause kept', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    Counter.create({}, { id: 'foreign' });
    const cause = new Error('socket hang up');
    store.failNext(1, () => cause);
    const error = await currentSession().commit().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).cause).toBe(cause);
  });

  it('on a conflict in the background reloads the stale object, reports what it discarded, and keeps the rest', async () => {
    const store = new RecordingStore();
    const clock = new ManualClock();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent', clock });
    const stale = Counter.create({ count: 1 }, { id: 'stale' });
    await commitAll();
    // Another writer moves the object on behind this process's back.
    await store.apply([{ kind: 'put', key: stale.asRef(), expectedVersion: 1, set: new Map([['count', new TextEncoder().encode('50')]]) }]);
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    await runInSession(async () => {
      await stale.increment(1);
      Counter.create({ count: 9 }, { id: 'innocent' });
    });
    getAutoSessionManager().enableAutoCommit();
    getAutoSessionManager().setAutoCommitInterval(10);
    // The first tick meets the conflict and reloads the stale object; the next commits the rest.
    await clock.advance(10);
    await getAutoSessionManager().settled();
    expect(events).toHaveLength(1);
    await clock.advance(10);
    await getAutoSessionManager().settled();
    expect(await store.get({ clsId: 'test.Counter', partitionId: 0, objectId: 'innocent' })).toBeDefined();
    expect(events[0]!.error).toBeInstanceOf(ConflictError);
    expect(events[0]!.discarded.map((r) => r.objectId)).toEqual(['stale']);
    expect(stale.count).toBe(50);
    expect(stale.version).toBe(2);
    expect((await Counter.load('innocent')).version).toBe(1);
  });

  it('commitAll continues past a failing session and rejects with CommitError listing what is unpersisted', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    await runInSession(() => Counter.create({}, { id: 'first' }));
    await runInSession(() => Counter.create({}, { id: 'second' }));
    store.failNext(1, transient);
    const error = await commitAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitError);
    const commitError = error as CommitError;
    expect(commitError.failures).toHaveLength(1);
    expect(commitError.unpersisted.map((u) => u.ref.objectId)).toEqual(['first']);
    expect(commitError.unpersisted[0]!.fields).toEqual(['<created>']);
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['second']);
    const summary = await commitAll();
    expect(summary).toMatchObject({ sessions: 1, committed: 1, failed: 0 });
  });
});
