import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvocationTimeoutError, LockTimeoutError, OaasObject, ObjectBusyError, method, runInSession, service } from '../../src/index.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, holdInScope, shutdownAfterEach } from '../support/runtime.js';
import { Counter, sleep } from '../support/services.js';

shutdownAfterEach();

/** Arrival signals by object id, for methods that must run at the same time to finish. */
const arrivals = new Map<string, { arrive: () => void; arrived: Promise<void> }>();
function arrival(id: string): { arrive: () => void; arrived: Promise<void> } {
  let entry = arrivals.get(id);
  if (entry === undefined) {
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    entry = { arrive, arrived };
    arrivals.set(id, entry);
  }
  return entry;
}

/** The promise a `Spawner.spawn` call left running after it returned. */
let detached: Promise<number> | undefined;

@service('Meeting', { package: 'test_turns' })
class Meeting extends OaasObject {
  /** Says it has arrived, then waits (at most `boundMs`) for `other` to arrive: only concurrent calls can both finish. */
  @method()
  async meet(other: string, boundMs: number): Promise<string> {
    arrival(this.id).arrive();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.id} waited ${boundMs} ms for ${other}: the calls did not overlap`)), boundMs);
    });
    try {
      await Promise.race([arrival(other).arrived, late]);
    } finally {
      clearTimeout(timer);
    }
    return `${this.id} met ${other}`;
  }
}

@service('Spawner', { package: 'test_turns' })
class Spawner extends Counter {
  /** Starts a call on its own object that it does not await: it runs after this call has returned. */
  @method()
  async spawn(delayMs: number): Promise<void> {
    detached = (async () => {
      await sleep(delayMs);
      return await this.increment();
    })();
  }
}

@service('SyncCounter', { package: 'test_turns' })
class SyncCounter extends OaasObject {
  count = 0;
  /** Not async: the turn ends when it returns. */
  @method()
  bump(): number {
    this.count += 1;
    return this.count;
  }
  /** Returns a thenable that is no promise: the turn lasts until it settles. */
  @method()
  later(release: Promise<void>): PromiseLike<number> {
    return { then: (ok, fail) => release.then(() => this.count).then(ok, fail) };
  }
}

/** Fakes the global setTimeout the methods here wait on (the runtime's other timers stay real). */
function fakeTimeouts(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
}

describe('turns', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs calls on one object one at a time, in call order (no lost update)', async () => {
    await freshRuntime();
    fakeTimeouts();
    const c = Counter.create({}, { id: 'serial' });
    const all = Promise.all(Array.from({ length: 5 }, () => c.slowIncrement(3)));
    // One at a time, the five 3 ms waits end at 15 ms; overlapping, they would all end at 3 ms with the same count.
    await vi.advanceTimersByTimeAsync(15);
    const results = await all;
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(c.count).toBe(5);
  });

  it('runs calls on different objects concurrently', async () => {
    await freshRuntime();
    // Each call waits for the other to start: run one at a time, the first would time out.
    const [a, b] = [Meeting.create({}, { id: 'meet-a' }), Meeting.create({}, { id: 'meet-b' })];
    expect(await Promise.all([a.meet('meet-b', 2000), b.meet('meet-a', 2000)])).toEqual(['meet-a met meet-b', 'meet-b met meet-a']);
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
    fakeTimeouts();
    const c = Spawner.create({}, { id: 'late' });
    await c.spawn(10);
    expect(detached).toBeInstanceOf(Promise);
    // The next holder reads, waits 40 ms, then writes: the detached increment wakes up inside that
    // window and must wait its turn (still carrying the finished call's context), else an update is lost.
    const next = c.slowIncrement(40);
    await vi.advanceTimersByTimeAsync(40);
    expect(await next).toBe(1);
    expect(await detached).toBe(2);
    expect(c.count).toBe(2);
  });

  it('makes a call wait at most lockTimeoutMs for an object held by a scope', async () => {
    await freshRuntime({ lockTimeoutMs: 1000 });
    const c = Counter.create({}, { id: 'held' });
    const held = await holdInScope(() => c.increment());
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let outcome: unknown;
      const call = runInSession(() => c.increment()).then(
        () => (outcome = 'resolved'),
        (error: unknown) => (outcome = error),
      );
      await vi.advanceTimersByTimeAsync(999);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await new Promise(setImmediate); // lets the rejection reach the caller (setImmediate is not faked)
      expect(outcome).toBeInstanceOf(LockTimeoutError);
      await call;
    } finally {
      vi.useRealTimers();
      held.release();
      await held.done;
    }
    expect(c.count).toBe(1);
  });

  it('refuses a direct write to an object another context holds instead of interleaving', async () => {
    await freshRuntime();
    fakeTimeouts();
    const c = Counter.create({}, { id: 'busy' });
    const running = c.slowIncrement(30);
    await vi.advanceTimersByTimeAsync(5);
    expect(() => {
      c.count = 100;
    }).toThrow(ObjectBusyError);
    await vi.advanceTimersByTimeAsync(25);
    expect(await running).toBe(1);
    c.count = 100;
    expect(c.count).toBe(100);
  });

  it('ends the turn of a synchronous method when it returns, and holds it for a thenable until it settles', async () => {
    await freshRuntime();
    const c = SyncCounter.create({}, { id: 'sync' });
    // A @method call returns a promise, whatever the method returns (its declared type says otherwise).
    const bumped = c.bump() as unknown as Promise<number>;
    // Not awaited yet, and the object is free again: a direct write goes through.
    c.count = 10;
    expect(await bumped).toBe(1);
    expect(c.count).toBe(10);
    expect(await (c.bump() as unknown as Promise<number>)).toBe(11);

    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const pending = c.later(released);
    await new Promise((r) => setImmediate(r));
    expect(() => {
      c.count = 0;
    }).toThrow(ObjectBusyError);
    release();
    expect(await pending).toBe(11);
    c.count = 0;
    expect(c.count).toBe(0);
  });

  it('times out a slow method, keeps its turn until it settles, then rolls it back', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    fakeTimeouts();
    const c = Counter.create({ count: 5 }, { id: 'slow' });
    const slow = c.tooSlow();
    const timedOut = expect(slow).rejects.toBeInstanceOf(InvocationTimeoutError);
    await vi.advanceTimersByTimeAsync(30); // its timeoutMs
    await timedOut;
    // The next call waits for the slow body to finish (its 120 ms wait) and sees the rolled-back state.
    let nextDone = false;
    const next = c.increment().then((count) => {
      nextDone = true;
      return count;
    });
    await vi.advanceTimersByTimeAsync(89);
    expect(nextDone).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await next).toBe(6);
  });
});
