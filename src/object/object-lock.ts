import { E_TIMEOUT, Mutex, withTimeout } from 'async-mutex';

/**
 * Who holds an object: a running method call (a turn) or an open scope.
 * Identity is all that matters; the async call chain carries its holders so
 * that re-entrant calls are recognised.
 */
export type LockHolder = object;

/**
 * One object's turn lock, made by `ObjectCore.ensureLock` once a second
 * holder has to wait (an uncontended turn is only its holder on the object).
 * Taking a free lock is synchronous with no promise at all; waiting goes
 * through an async-mutex queue (FIFO), created when first needed. A holder
 * that took the lock on the fast path is moved into the mutex when the first
 * waiter arrives, so the queue always reflects who holds the object.
 */
export class ObjectLock {
  private mutex: Mutex | undefined;
  /** The current holder; `undefined` while free or while a queued waiter is about to take over. */
  holder: LockHolder | undefined;
  private waiters = 0;

  /**
   * True while held, while a waiter is about to take over, or while the
   * mutex still holds the ticket of a waiter that timed out (async-mutex
   * releases it when its turn comes; until then nobody may jump the queue).
   */
  get locked(): boolean {
    return this.holder !== undefined || this.waiters > 0 || this.mutex?.isLocked() === true;
  }

  /** Takes the lock now if it is free; never waits. */
  tryAcquire(holder: LockHolder): boolean {
    if (this.locked) return false;
    this.holder = holder;
    return true;
  }

  /** Waits for the lock for at most `timeoutMs`; `onTimeout` makes the error to throw. */
  async acquire(holder: LockHolder, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    if (this.tryAcquire(holder)) return;
    const mutex = (this.mutex ??= new Mutex());
    // The current holder took the lock without the mutex (the fast path needs a free mutex): lock it on its
    // behalf, so we queue behind it. A free mutex is dispatched synchronously inside acquire().
    if (this.holder !== undefined && !mutex.isLocked()) void mutex.acquire();
    this.waiters += 1;
    try {
      await withTimeout(mutex, timeoutMs).acquire();
    } catch (error) {
      if (error === E_TIMEOUT) throw onTimeout();
      throw error;
    } finally {
      this.waiters -= 1;
    }
    this.holder = holder;
  }

  /** Releases the lock if `holder` holds it. Returns true when nobody waits any more. */
  release(holder: LockHolder): boolean {
    if (this.holder !== holder) return !this.locked;
    this.holder = undefined;
    if (this.mutex?.isLocked() === true) this.mutex.release();
    return !this.locked;
  }
}
