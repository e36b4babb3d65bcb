import { systemClock, unrefTimer, type Clock } from '../clock.js';

/**
 * Runs the background commit every interval. Ticks never overlap: a tick
 * that falls due while one is still running is coalesced into a single
 * follow-up run. The timer never keeps the process alive.
 */
export class AutoCommitScheduler {
  /** The clock's timer handle; opaque (a fake clock may use 0), so `started` says whether it runs. */
  private handle: unknown;
  private started = false;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private intervalMs: number,
    private readonly tick: () => Promise<void>,
    private readonly clock: Clock = systemClock,
  ) {}

  get enabled(): boolean {
    return this.started;
  }

  get interval(): number {
    return this.intervalMs;
  }

  start(): void {
    this.stop();
    this.handle = this.clock.setInterval(() => {
      this.fire();
    }, this.intervalMs);
    this.started = true;
    unrefTimer(this.handle);
  }

  stop(): void {
    if (this.started) this.clock.clearInterval(this.handle);
    this.handle = undefined;
    this.started = false;
  }

  /** Changes the interval; a running timer restarts with it. */
  setInterval(ms: number): void {
    this.intervalMs = ms;
    if (this.enabled) this.start();
  }

  /** Resolves when the tick in progress (if any) and its follow-up are done. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private fire(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.tick()
      .finally(() => {
        this.running = undefined;
        if (this.again && this.enabled) {
          this.again = false;
          this.fire();
        }
      });
  }
}
