import type { Clock } from '../../src/index.js';

// Taken before any test can install fake timers over the globals: the clock's own turns stay real.
const realSetImmediate = globalThis.setImmediate;

/** Event-loop turns {@link ManualClock.advance} gives started work before and after each timer. */
const SETTLE_TURNS = 5;

interface Timer {
  at: number;
  readonly fn: () => void;
  readonly every: number | undefined;
}

/**
 * A {@link Clock} for the runtime's `clock` option whose time moves only when
 * the test calls {@link advance}: the auto-commit timer, back-offs, pending
 * ages and the shutdown deadline then run in fake time, while everything
 * else (the store, method bodies, the test's own awaits) runs as usual.
 */
export class ManualClock implements Clock {
  private time: number;
  private lastId = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): number {
    return this.add(fn, ms, undefined);
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  setInterval(fn: () => void, ms: number): number {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers waiting to fire. */
  get timerCount(): number {
    return this.timers.size;
  }

  /**
   * Moves time forward by `ms`, firing the timers that fall due in order
   * (time reads as each one's due time while it runs, ties in the order they
   * were set). Before each timer and at the end it lets the work already
   * started run for a few turns of the event loop, so what one timer starts
   * (a background commit on a memory store) is done before the next fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const next = this.firstDue(target);
      if (next === undefined) break;
      const [id, timer] = next;
      this.time = timer.at;
      if (timer.every === undefined) this.timers.delete(id);
      else timer.at += timer.every;
      timer.fn();
    }
    this.time = target;
    await settle();
  }

  private add(fn: () => void, ms: number, every: number | undefined): number {
    this.lastId += 1;
    this.timers.set(this.lastId, { at: this.time + Math.max(0, ms), fn, every });
    return this.lastId;
  }

  private firstDue(target: number): [number, Timer] | undefined {
    let first: [number, Timer] | undefined;
    for (const entry of this.timers) {
      if (entry[1].at <= target && (first === undefined || entry[1].at < first[1].at)) first = entry;
    }
    return first;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise((resolve) => realSetImmediate(resolve));
}
