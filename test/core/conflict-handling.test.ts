// What a conflict (the store holds a newer version) does to the other work on the same live object:
// a reload never wipes a change made while it read the store, and changes it does drop are reported,
// never "committed" as nothing.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  CommitError,
  ConflictError,
  MemoryStore,
  StoreError,
  commitAll,
  configureOaas,
  currentSession,
  getAutoSessionManager,
  healthCheck,
  onCommitError,
  runInSession,
  sessionScope,
  shutdown,
  type CommitErrorEvent,
  type ObjectKey,
  type StoredObject,
} from '../../src/index.js';
import { captureLogs } from '../support/logs.js';
import { RecordingStore } from '../support/recording-store.js';
import { expectFailedShutdown, shutdownAfterEach, tick } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const encoder = new TextEncoder();
const keyOf = (objectId: string): ObjectKey => ({ clsId: 'test.Counter', partitionId: 0, objectId });

/** A memory store whose reads can be held at a gate, to put other work in the middle of a read. */
class GatedStore extends MemoryStore {
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  waiting = 0;

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.openGate?.();
  }

  override async get(key: ObjectKey): Promise<StoredObject | undefined> {
    const gate = this.gate;
    if (gate !== undefined) {
      this.waiting += 1;
      await gate;
    }
    return super.get(key);
  }
}

/** A memory store that outlives the runtime's shutdown, so a test can read what the flush left. */
class LastingStore extends MemoryStore {
  override close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Another writer (another process) commits `count` at the next version, behind this runtime's back. */
async function writeBehindTheBack(store: MemoryStore, objectId: string, count: number): Promise<number> {
  const stored = await store.get(keyOf(objectId));
  const [version] = await store.apply([
    { kind: 'put', key: keyOf(objectId), expectedVersion: stored?.version ?? 0, set: new Map([['count', encoder.encode(String(count))]]) },
  ]);
  return version!;
}

/** Waits, a turn of the event loop at a time (no clock involved), until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await tick();
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('a conflict reload', () => {
  it('keeps the object held while it reads the store, so a call queued behind it runs on the fresh state and is committed', async () => {
    const store = new GatedStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    Counter.create({}, { id: 'x' });
    await commitAll();
    await writeBehindTheBack(store, 'x', 10);

    store.hold();
    const first = sessionScope(async () => (await Counter.load('x')).increment(1), { retries: 0 });
    const firstOutcome = first.then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await until(() => store.waiting > 0, 'the reload read');
    // While the conflicting scope re-reads the object, another call asks for it.
    const second = runInSession(async () => {
      const counter = await Counter.load('x');
      const value = await counter.increment(1);
      const result = await currentSession().commit();
      return { value, committed: result.committed.map((r) => r.objectId) };
    });
    // Turns of the event loop, not time: the memory store answers within them, so the call is queued by then.
    for (let i = 0; i < 10; i++) await tick();
    store.release();

    expect(await firstOutcome).toBeInstanceOf(ConflictError);
    // The acknowledged call ran on the state the other writer committed, and its change is in the store.
    expect(await second).toEqual({ value: 11, committed: ['x'] });
    const stored = await store.get(keyOf('x'));
    expect(new TextDecoder().decode(stored!.entries.get('count'))).toBe('11');
  });

  it('reports the pending changes of other sessions it drops, and their next explicit commit rejects instead of committing nothing', async () => {
    const store = new MemoryStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    Counter.create({}, { id: 'y' });
    await commitAll();
    const version = await writeBehindTheBack(store, 'y', 10);

    const { session } = await runInSession(async () => {
      (await Counter.load('y')).count = 5; // a plain write, pending in this context's session
      return { session: currentSession() };
    });
    await expect(sessionScope(async () => (await Counter.load('y')).increment(1))).rejects.toBeInstanceOf(ConflictError);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ sessionId: session.id, willRetry: false, source: 'background' });
    expect(events[0]!.discarded.map(String)).toEqual(['test.Counter/0/y']);
    const rejected = await session.commit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rejected).toBeInstanceOf(ConflictError);
    expect((rejected as ConflictError).conflicts).toEqual([{ ref: keyOf('y'), expected: 1, actual: version }]);
    // The other writer's state is what the store and the live object hold.
    expect((await Counter.load('y')).count).toBe(10);
    expect((await store.get(keyOf('y')))!.version).toBe(version);
  });
});

describe('a creation deleted before its first commit', () => {
  it('is settled by the next commit: nothing pending, no age, no back-pressure', async () => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent', maxPendingObjects: 3 });
    await runInSession(async () => {
      for (let i = 0; i < 3; i++) await Counter.create({}, { id: `gone-${i}` }).delete();
    });
    await commitAll();
    const health = await healthCheck();
    expect(health.pendingObjects).toBe(0);
    expect(health.oldestPendingAgeMs).toBe(0);
    expect(health.pendingSessions).toBe(0);
    // Three never-committed objects would hold the admission gate shut; a new call must pass.
    const counter = Counter.create({}, { id: 'after' });
    expect(await counter.increment(2)).toBe(2);
    await expect(Counter.load('gone-0')).rejects.toMatchObject({ code: 'OAAS_ERR_OBJECT_NOT_FOUND' });
  });

  it('after its creation met an existing object, leaves the stored object loadable', async () => {
    const store = new MemoryStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    await writeBehindTheBack(store, 'taken', 7);
    const local = Counter.create({ count: 1 }, { id: 'taken' });
    const failure = await commitAll().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(CommitError);
    expect((failure as CommitError).failures[0]).toBeInstanceOf(AlreadyExistsError);
    await local.delete();
    const stored = await Counter.load('taken');
    expect(stored.count).toBe(7);
    expect(stored).not.toBe(local);
    await commitAll();
    expect((await healthCheck()).pendingObjects).toBe(0);
    expect((await store.get(keyOf('taken')))!.version).toBe(1);
  });
});

describe('onCommitError', () => {
  it('receives explicit commit failures with their source, and refs print as cls/partition/id', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    const failure = (): Error => new StoreError('disk full', { transient: false });

    store.failNext(1, failure);
    const session = await runInSession(() => {
      Counter.create({}, { id: 'a' });
      return currentSession();
    });
    await expect(session.commit()).rejects.toBeInstanceOf(StoreError);
    store.failNext(1, failure);
    await expect(commitAll()).rejects.toBeInstanceOf(CommitError);

    expect(events.map((e) => e.source)).toEqual(['explicit', 'explicit']);
    expect(events[0]).toMatchObject({ sessionId: session.id, willRetry: false });
    expect(events[0]!.error).toBeInstanceOf(StoreError);
    expect(String(events[0]!.refs)).toBe('test.Counter/0/a');
    expect(inspect(events[0]!.refs)).toBe('[ ObjectRef(test.Counter/0/a) ]');
    // The changes stayed pending through both failures.
    expect((await commitAll()).committed).toBe(1);
  });

  it('says willRetry when auto-commit will try an explicit failure again', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: true, autoCommitIntervalMs: 60_000, logLevel: 'silent' });
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    Counter.create({}, { id: 'b' });
    store.failNext(1, () => new StoreError('busy', { transient: true }));
    await expect(commitAll()).rejects.toBeInstanceOf(CommitError);
    expect(events).toMatchObject([{ source: 'explicit', willRetry: true }]);
  });

  it('receives one report of a failed shutdown flush', async () => {
    const store = new RecordingStore();
    await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    Counter.create({}, { id: 'c' });
    store.failNext(1, () => new StoreError('disk full', { transient: false }));
    expectFailedShutdown();
    await expect(shutdown({ timeoutMs: 1000 })).rejects.toBeInstanceOf(CommitError);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ source: 'shutdown', willRetry: false, sessionId: '*' });
    expect(events[0]!.refs.map(String)).toEqual(['test.Counter/0/c']);
  });
});

describe('shutdown with changes that conflict', () => {
  it('reloads them once, reports them as discarded, flushes the rest and rejects at once, without spinning', async () => {
    const store = new LastingStore();
    const { logger, lines } = captureLogs();
    await configureOaas({ store, autoCommit: false, logger });
    const events: CommitErrorEvent[] = [];
    onCommitError((e) => events.push(e));
    Counter.create({}, { id: 'stale' });
    await commitAll();
    const version = await writeBehindTheBack(store, 'stale', 10);
    (await Counter.load('stale')).count = 3;
    Counter.create({ count: 4 }, { id: 'fresh' });

    const started = performance.now();
    expectFailedShutdown();
    const failure = await shutdown({ timeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expect(failure).toBeInstanceOf(CommitError);
    expect((failure as CommitError).unpersisted.map((u) => u.ref.objectId)).toEqual(['stale']);
    expect(elapsed).toBeLessThan(5_000);
    expect(lines.filter((l) => l.msg === 'commit conflicted').length).toBeLessThanOrEqual(2);
    expect(events.filter((e) => e.source === 'shutdown').flatMap((e) => e.discarded.map(String))).toEqual(['test.Counter/0/stale']);
    // The other writer's state is intact, and the rest of the flush was written.
    const stale = await store.get(keyOf('stale'));
    expect(stale!.version).toBe(version);
    expect(new TextDecoder().decode(stale!.entries.get('count'))).toBe('10');
    expect((await store.get(keyOf('fresh')))!.version).toBe(1);
    expect(getAutoSessionManager().isShutDown).toBe(true);
  });
});

describe('another writer on the same store', () => {
  it('is pointed out once, with the objects, the first time a version moves under this process', async () => {
    const store = new MemoryStore();
    const { logger, lines } = captureLogs();
    await configureOaas({ store, autoCommit: false, logger });
    for (const id of ['w1', 'w2']) Counter.create({}, { id });
    await commitAll();
    expect(lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('another process wrote'))).toEqual([]);

    for (const id of ['w1', 'w2']) {
      await writeBehindTheBack(store, id, 10);
      await expect(sessionScope(async () => (await Counter.load(id)).increment(1))).rejects.toBeInstanceOf(ConflictError);
    }
    const warnings = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('another process wrote objects this process holds'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, objects: ['test.Counter/0/w1'] });
    // It points to what keeps several processes safe.
    expect(warnings[0]!.msg).toContain('cluster mode');
    expect(warnings[0]!.msg).toContain('docs/cluster.md');
    expect(lines.filter((l) => l.msg === 'commit conflicted')).toHaveLength(2);
  });
});
