/**
 * The bookkeeping a `@method` call and a field write keep for speed: a
 * field already marked dirty is not marked again, an object its session
 * already tracks is not tracked again, and a call keeps its rollback record
 * in the call itself. Each shortcut must end exactly where the full path
 * would: after a commit, after another context's writes, across nested
 * calls, past the 31st field.
 */
import { describe, expect, it } from 'vitest';
import { OaasObject, commitAll, currentSession, method, runInSession, service, type Session } from '../../src/index.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const WIDE_FIELDS = 40;

/** More fields than a 31-bit mask holds. */
@service('Wide', { package: 'test' })
class Wide extends OaasObject {
  constructor() {
    super();
    for (let i = 0; i < WIDE_FIELDS; i++) (this as unknown as Record<string, number>)[`f${i}`] = 0;
  }

  @method()
  async bump(i: number): Promise<void> {
    const fields = this as unknown as Record<string, number>;
    fields[`f${i}`] = (fields[`f${i}`] ?? 0) + 1;
  }
}

@service('Triple', { package: 'test' })
class Triple extends OaasObject {
  a = 0;
  b = 0;
  c = 0;

  /** Writes a, then b in a nested call that succeeds, then c, then fails. */
  @method()
  async failAfterNested(): Promise<void> {
    this.a = 1;
    await this.setB(2);
    this.c = 3;
    throw new Error('outer failed');
  }

  @method()
  async setB(value: number): Promise<void> {
    this.b = value;
  }

  /** Writes a, then lets a nested call write a and b and fail, and carries on. */
  @method()
  async survivesNestedFailure(): Promise<void> {
    this.a = 1;
    await this.overwriteThenFail().catch(() => undefined);
    this.c = 3;
  }

  @method()
  async overwriteThenFail(): Promise<void> {
    this.a = 5;
    this.b = 5;
    await Promise.resolve();
    throw new Error('inner failed');
  }
}

/** Fields each commit wrote for one object, batch by batch. */
function written(store: RecordingStore, id: string): string[][] {
  return store.writtenKeys(id);
}

describe('the @method fast path', () => {
  it('writes a field again at every commit it changed before, by a method or directly', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'again' });
    await commitAll();
    await c.increment();
    await commitAll();
    await c.increment();
    await commitAll();
    c.count = 7;
    await commitAll();
    expect(written(store, 'again').slice(1)).toEqual([
      ['count', 'history'],
      ['count', 'history'],
      ['count'],
    ]);
    expect((await Counter.load('again')).count).toBe(7);
  });

  it('writes a field past the 31st again at every commit it changed before', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const w = Wide.create({}, { id: 'wide' });
    await commitAll();
    // Fields 7 and 39, 0 and 32 would share a bit if the mask wrapped around; 31 is its sign bit.
    for (const batch of [[3], [39], [39, 7], [7, 39], [31, 30], [0, 32], [32, 0]]) {
      for (const i of batch) await w.bump(i);
      await commitAll();
    }
    expect(written(store, 'wide').slice(1).map((keys) => keys.sort())).toEqual([['f3'], ['f39'], ['f39', 'f7'], ['f39', 'f7'], ['f30', 'f31'], ['f0', 'f32'], ['f0', 'f32']]);
  });

  it('tracks an object in its session again after that session committed it', async () => {
    await freshRuntime();
    await runInSession(async () => {
      const c = Counter.create({}, { id: 'retrack' });
      await currentSession().commit();
      expect(currentSession().pendingCount).toBe(0);
      c.count = 1;
      expect(currentSession().pendingCount).toBe(1);
      const result = await currentSession().commit();
      expect(result.committed.map((r) => r.objectId)).toEqual(['retrack']);
      await c.increment();
      expect(currentSession().pendingCount).toBe(1);
      await currentSession().commit();
    });
    expect((await Counter.load('retrack')).count).toBe(2);
  });

  it('keeps an object two contexts write in turn pending in each, until each commits', async () => {
    await freshRuntime();
    const c = await runInSession(async () => {
      const created = Counter.create({}, { id: 'shared' });
      await currentSession().commit();
      return created;
    });
    // Two contexts take turns through `step`; each keeps its own session.
    let step = 0;
    const turn = async (mine: number): Promise<void> => {
      while (step !== mine) await new Promise((resolve) => setImmediate(resolve));
    };
    const sessions: Record<string, Session> = {};
    const a = runInSession(async () => {
      sessions.a = currentSession();
      await turn(0);
      await c.increment(1);
      step = 1;
      await turn(2);
      await c.increment(10);
      expect(currentSession().pendingCount).toBe(1);
      step = 3;
      await turn(4);
      // B committed the object (with A's changes): A has nothing left, until it writes again.
      expect(currentSession().pendingCount).toBe(0);
      await c.increment(100);
      expect(currentSession().pendingCount).toBe(1);
      const result = await currentSession().commit();
      expect(result.committed.map((r) => r.objectId)).toEqual(['shared']);
    });
    const b = runInSession(async () => {
      sessions.b = currentSession();
      await turn(1);
      await c.increment(2);
      expect(currentSession().pendingCount).toBe(1);
      step = 2;
      await turn(3);
      await currentSession().commit();
      expect(currentSession().pendingCount).toBe(0);
      step = 4;
    });
    await Promise.all([a, b]);
    expect(sessions.a).not.toBe(sessions.b);
    expect((await Counter.load('shared')).count).toBe(113);
    expect((await Counter.load('shared')).history).toEqual([1, 2, 10, 100]);
  });

  it('rolls back every field a failed call wrote, those of nested calls that succeeded included', async () => {
    await freshRuntime();
    const t = Triple.create({}, { id: 'nested-success' });
    await expect(t.failAfterNested()).rejects.toThrow('outer failed');
    expect([t.a, t.b, t.c]).toEqual([0, 0, 0]);
  });

  it('rolls back a failed nested call to where its caller was, and keeps the caller going', async () => {
    await freshRuntime();
    const t = Triple.create({}, { id: 'nested-failure' });
    await t.survivesNestedFailure();
    expect([t.a, t.b, t.c]).toEqual([1, 0, 3]);
  });

  it('hands out working methods that can be detached from their object', async () => {
    await freshRuntime();
    const c = Counter.create({}, { id: 'detached-fn' });
    const { increment } = c;
    await increment(2);
    await increment(3);
    expect(c.count).toBe(5);
  });
});
