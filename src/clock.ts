/**
 * The runtime's source of time: the auto-commit timer, the back-off of failed
 * background commits, the age of pending changes, and the shutdown deadline
 * and its retries all read it. The default is the system clock; tests and
 * simulations pass their own (the `clock` option) to move time by hand
 * instead of waiting for it.
 *
 * Handles are opaque: whatever `setTimeout` / `setInterval` return is given
 * back to `clearTimeout` / `clearInterval`. Method timeouts and lock waits
 * are not on this clock: they use the global timers (which fake timers
 * replace); retry pauses wait in real time.
 *
 * @example
 * // `manualClock`: your Clock whose time moves only when the test moves it.
 * await configureOaas({ store: 'memory', clock: manualClock });
 */
export interface Clock {
  /** The current time in milliseconds since the epoch, as `Date.now()` counts it. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Calls `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The functions a {@link Clock} must have; checked when a clock is configured. */
export const CLOCK_FUNCTIONS = ['now', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] as const;

/**
 * Date.now and the global timers, looked up at each call so that fake timers
 * installed over the globals (vitest's `vi.useFakeTimers()`) drive it too.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => {
    clearInterval(handle as NodeJS.Timeout);
  },
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/** Lets a timer not keep the process alive, when its handle can say so (Node's timers can; a fake's need not). */
export function unrefTimer(handle: unknown): void {
  const timer = handle as { unref?: unknown } | null;
  if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') (timer as { unref(): void }).unref();
}
