import { InternalError } from '../errors.js';

/**
 * Runs async tasks one at a time, in the order they were added: the commit
 * pipeline's line. A task added while the line is empty starts at once, in
 * the caller's tick; each task costs the line two promises (a general
 * queue's bookkeeping measured about 0.9 µs per task, a scope's commit
 * about 27 µs in all). A synchronous task can run in the line with none
 * (`runNow`).
 */
export class SerialQueue {
  /** Settles when the last task added so far has finished; `undefined` when the line is empty. */
  private tail: Promise<void> | undefined;
  private unfinished = 0;
  private idleWaiters: (() => void)[] = [];
  /** While a `runNow` task runs: starts the tasks added meanwhile, once it is done. */
  private resumeAfterNow: (() => void) | undefined;
  private runningNow = false;

  /** Tasks waiting or running. */
  get backlog(): number {
    return this.unfinished;
  }

  /** Runs `task` after every task added before it has finished; its result (or rejection) is the task's. */
  add<T>(task: () => Promise<T>): Promise<T> {
    this.unfinished += 1;
    // Added by a synchronous task while it runs: wait for it like for any task before.
    if (this.runningNow && this.tail === undefined) this.tail = new Promise((resolve) => (this.resumeAfterNow = resolve));
    const result = this.tail === undefined ? start(task) : this.tail.then(() => start(task));
    this.tail = result.then(this.finished, this.finished);
    return result;
  }

  /**
   * Runs a synchronous `task` at once as the line's next task, returning
   * (or throwing) what it does; only while the line is empty (`backlog` 0).
   * Tasks added while it runs start after it.
   */
  runNow<T>(task: () => T): T {
    if (this.unfinished !== 0) throw new InternalError('SerialQueue.runNow needs an empty line');
    this.unfinished = 1;
    this.runningNow = true;
    try {
      return task();
    } finally {
      this.runningNow = false;
      const resume = this.resumeAfterNow;
      this.resumeAfterNow = undefined;
      this.finished();
      resume?.();
    }
  }

  /** Resolves once every task added so far has finished. */
  onIdle(): Promise<void> {
    return this.unfinished === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private readonly finished = (): void => {
    this.unfinished -= 1;
    if (this.unfinished > 0) return;
    this.tail = undefined;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  };
}

/** `task()`, with a synchronous throw turned into its rejection (the line must go on either way). */
function start<T>(task: () => Promise<T>): Promise<T> {
  try {
    return task();
  } catch (error) {
    return new Promise<never>(() => {
      throw error;
    });
  }
}
