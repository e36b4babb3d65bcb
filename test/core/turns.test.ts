import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InvocationTimeoutError, LockTimeoutError, ObjectBusyError, runInSession, sessionScope } from '../../src/index.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

describe('turns', () => {
  it('runs calls on one object one at a time, in call order (no lost update)', async () => {
    await freshRuntime();
    const c = Counter.create({}, { id: 'serial' });
    const results = await Promise.all(Array.from({ length: 5 }, () => c.slowIncrement(3)));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(c.count).toBe(5);
  });

  it('runs calls on different objects concurrently', async () => {
    await freshRuntime();
    const counters = Array.from({ length: 4 }, (_, i) => Counter.create({}, { id: `par-${i}` }));
    const order: string[] = [];
    await Promise.all(
      counters.map(async (c) => {
        order.push(`start ${c.id}`);
        await c.slowIncrement(20);
        order.push(`end ${c.id}`);
      }),
    );
    // Every call started before any finished: they overlapped.
    expect(order.slice(0, 4).every((e) => e.startsWith('start'))).toBe(true);
  });

  it('lets a method call another method of its own object (re-entrant, no deadlock)', async () => {
    await freshRuntime({ lockTimeoutMs: 500 });
    const c = Counter.create({ count: 3 }, { id: 'reenter' });
    expect(await c.double()).toBe(6);
  });

  it('lets a chain come back to an object it holds: A -> B -> A', async () => {
    await freshRuntime({ lockTimeoutMs: 500 });
    const a = Counter.create({}, { id: 'a' });
    const b = Counter.create({}, { id: 'b' });
    expect(await a.pingVia(b)).toBe(100);
    expect(b.count).toBe(10);
  });

  it('does not let a detached promise of a finished call bypass the next holder', async () => {
    await freshRuntime({ lockTimeoutMs: 1000 });
    const c = Counter.create({}, { id: 'late' });
    // A call that is not awaited by the chain still takes its own turn after the first finished.
    const first = c.slowIncrement(20);
    const second = c.slowIncrement(5);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
  });

  it('makes a call wait at most lockTimeoutMs for an object held by a scope', async () => {
    await freshRuntime({ lockTimeoutMs: 30 });
    const c = Counter.create({}, { id: 'held' });
    let release!: () => void;
    const holding = sessionScope(async () => {
      await c.increment();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await sleep(5);
    await expect(runInSession(() => c.increment())).rejects.toBeInstanceOf(LockTimeoutError);
    release();
    await holding;
    expect(c.count).toBe(1);
  });

  it('refuses a direct write to an object another context holds instead of interleaving', async () => {
    await freshRuntime();
    const c = Counter.create({}, { id: 'busy' });
    const running = c.slowIncrement(30);
    await sleep(5);
    expect(() => {
      c.count = 100;
    }).toThrow(ObjectBusyError);
    expect(await running).toBe(1);
    c.count = 100;
    expect(c.count).toBe(100);
  });

  it('times out a slow method, keeps its turn until it settles, then rolls it back', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({ count: 5 }, { id: 'slow' });
    await expect(c.tooSlow()).rejects.toBeInstanceOf(InvocationTimeoutError);
    // The next call waits for the slow body to finish and sees the rolled-back state.
    expect(await c.increment()).toBe(6);
  });
});
