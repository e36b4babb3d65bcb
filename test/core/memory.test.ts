import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { commitAll, currentSession, getAutoSessionManager, runInSession, type Session } from '../../src/index.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects until `done()` holds, or gives up after a bounded number of rounds. */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let round = 0; round < 30; round++) {
    // WeakRef.deref() keeps its target alive until the current job ends, so collect in a fresh job.
    await nextMacrotask();
    gc!();
    await nextMacrotask();
    if (done()) return true;
  }
  return done();
}

describe('bounded memory', () => {
  it('runs with --expose-gc', () => {
    expect(typeof gc).toBe('function');
  });

  it('releases the sessions of finished contexts and committed objects nothing references', async () => {
    await freshRuntime();
    const runtime = getAutoSessionManager();
    const sessions: WeakRef<Session>[] = [];
    const objects: WeakRef<Counter>[] = [];
    for (let i = 0; i < 2000; i++) {
      await runInSession(async () => {
        const c = Counter.create({ count: i }, { id: `short-${i}` });
        await c.increment();
        sessions.push(new WeakRef(currentSession()));
        objects.push(new WeakRef(c));
        await currentSession().commit();
      });
    }
    expect(runtime.pendingSessionCount).toBe(0);
    expect(await collectUntil(() => sessions.every((s) => s.deref() === undefined))).toBe(true);
    expect(await collectUntil(() => objects.every((o) => o.deref() === undefined) && runtime.liveObjectCount === 0)).toBe(true);
    // Released objects are read back from the store when needed.
    expect((await Counter.load('short-1999')).count).toBe(2000);
  });

  it('keeps a finished context`s session and objects while they still have pending changes', async () => {
    await freshRuntime();
    const runtime = getAutoSessionManager();
    let session!: WeakRef<Session>;
    await runInSession(() => {
      Counter.create({ count: 1 }, { id: 'pending-1' });
      session = new WeakRef(currentSession());
    });
    await collectUntil(() => false);
    expect(session.deref()).toBeDefined();
    expect(runtime.pendingObjectCount).toBe(1);
    await commitAll();
    expect(await collectUntil(() => session.deref() === undefined)).toBe(true);
    expect((await Counter.load('pending-1')).version).toBe(1);
  });
});
