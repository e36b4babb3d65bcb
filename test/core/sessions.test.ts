import { setTimeout as sleep } from 'node:timers/promises';
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { commitAll, currentSession, getAutoSessionManager, runInSession, type Session } from '../../src/index.js';
import { freshRuntime, shutdownAfterEach, tick } from '../support/runtime.js';
import { Counter } from '../support/services.js';
import { RecordingStore } from '../support/recording-store.js';

shutdownAfterEach();

describe('per-context sessions', () => {
  it('keeps one session across awaits, timers, emitters and Promise.all branches of a context', async () => {
    await freshRuntime();
    await runInSession(async () => {
      const first = currentSession();
      await sleep(1);
      expect(currentSession()).toBe(first);
      const fromTimer = await new Promise<Session>((resolve) => setTimeout(() => resolve(currentSession()), 1));
      expect(fromTimer).toBe(first);
      const branches = await Promise.all([1, 2, 3].map(async (n) => {
        await sleep(n);
        return currentSession();
      }));
      expect(branches.every((s) => s === first)).toBe(true);
      const emitter = new EventEmitter();
      const fromEmitter = new Promise<Session>((resolve) => emitter.once('go', () => resolve(currentSession())));
      setImmediate(() => emitter.emit('go'));
      expect(await fromEmitter).toBe(first);
    });
  });

  it('gives different contexts different sessions, each with its own pending changes', async () => {
    await freshRuntime();
    const seen = await Promise.all(
      [1, 2, 3].map((n) =>
        runInSession(async () => {
          Counter.create({ count: n }, { id: `ctx-${n}` });
          await tick(); // the three contexts interleave here
          return { session: currentSession(), pending: currentSession().pendingCount };
        }),
      ),
    );
    expect(new Set(seen.map((s) => s.session.id)).size).toBe(3);
    expect(seen.map((s) => s.pending)).toEqual([1, 1, 1]);
  });

  it('writes a large commit in the order its objects were made, and a small one in the order they changed', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const ids = Array.from({ length: 1200 }, (_, i) => `o-${String(i).padStart(4, '0')}`);
    const objects = await runInSession(async () => {
      const made = ids.map((id) => Counter.create({}, { id }));
      await commitAll();
      return made;
    });
    // Changed last first: the session holds them in that order.
    const written = async (count: number): Promise<string[]> =>
      runInSession(async () => {
        for (const o of objects.slice(0, count).reverse()) await o.increment(1);
        await commitAll();
        return store.batches.at(-1)!.map((op) => op.key.objectId);
      });
    expect(await written(1200)).toEqual(ids);
    expect(await written(3)).toEqual(ids.slice(0, 3).reverse());
  });

  it('commits only the changes of the session that is committed', async () => {
    await freshRuntime();
    let other: Session | undefined;
    await runInSession(() => {
      Counter.create({}, { id: 'mine' });
      other = currentSession();
    });
    const mine = await runInSession(async () => {
      Counter.create({}, { id: 'yours' });
      return currentSession().commit();
    });
    expect(mine.committed.map((r) => r.objectId)).toEqual(['yours']);
    expect(other!.pendingCount).toBe(1);
  });

  it('cleanupSession commits and unbinds the session from its context', async () => {
    await freshRuntime();
    await runInSession(async () => {
      const s = currentSession();
      Counter.create({}, { id: 'cleaned' });
      const result = await getAutoSessionManager().cleanupSession();
      expect(result.committed).toHaveLength(1);
      expect(currentSession()).not.toBe(s);
    });
  });
});
