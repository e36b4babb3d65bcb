import { E_TIMEOUT, Mutex, withTimeout } from 'async-mutex';

/**
 * Who holds an object: a running method call (a turn) or an open scope.
 * Identity is all that matters; the async call chain carries its holders so
 * that re-entrant calls are recognised.
 */
export type LockHolder = object;

/**
 * One object's turn lock. Holders queue in call order (async-mutex is FIFO);
 * an uncontended acquire completes synchronously, which is what lets a scope
 * take an object at the moment of a plain field write.
 */
export class ObjectLock {
  private readonly mutex = new Mutex();
  /** The current holder; `undefined` while free or while a queued waiter is about to take over. */
  holder: LockHolder | undefined;

  /** True while held or about to be handed to a waiter. */
  get locked(): boolean {
    return this.mutex.isLocked();
  }

  /** Takes the lock now if it is free; never waits. */
  tryAcquire(holder: LockHolder): boolean {
    if (this.mutex.isLocked()) return false;
    // A free mutex is dispatched synchronously inside acquire().
    void this.mutex.acquire();
    this.holder = holder;
    return true;
  }

  /** Waits for the lock for at most `timeoutMs`; `onTimeout` makes the error to throw. */
  async acquire(holder: LockHolder, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    if (this.tryAcquire(holder)) return;
    try {
      await withTimeout(this.mutex, timeoutMs).acquire();
    } catch (error) {
      if (error === E_TIMEOUT) throw onTimeout();
      throw error;
    }
    this.holder = holder;
  }

  /** Releases the lock if `holder` holds it. Returns true when nobody waits any more. */
  release(holder: LockHolder): boolean {
    if (this.holder !== holder) return !this.mutex.isLocked();
    this.holder = undefined;
    this.mutex.release();
    return !this.mutex.isLocked();
  }
}
