import { describe, expect, it } from 'vitest';
import { ObjectLock } from '../../src/object/object-lock.js';

const timeout = () => new Error('timeout');

describe('ObjectLock', () => {
  it('takes a free lock synchronously and hands it over in arrival order', async () => {
    const lock = new ObjectLock();
    const [a, b, c] = [{}, {}, {}];
    expect(lock.tryAcquire(a)).toBe(true);
    expect(lock.tryAcquire(b)).toBe(false);
    const order: string[] = [];
    const waitB = lock.acquire(b, 1000, timeout).then(() => order.push('b'));
    const waitC = lock.acquire(c, 1000, timeout).then(() => order.push('c'));
    expect(lock.release(a)).toBe(false);
    await waitB;
    expect(lock.holder).toBe(b);
    lock.release(b);
    await waitC;
    expect(order).toEqual(['b', 'c']);
    expect(lock.release(c)).toBe(true);
    expect(lock.locked).toBe(false);
  });

  it('lets nobody jump the queue while a timed-out waiter`s ticket is still in it', async () => {
    const lock = new ObjectLock();
    const [a, late, next] = [{}, {}, {}];
    lock.tryAcquire(a);
    await expect(lock.acquire(late, 10, timeout)).rejects.toThrow('timeout');
    // `a` still holds; a newcomer queues rather than taking the lock.
    const waiting = lock.acquire(next, 1000, timeout);
    expect(lock.tryAcquire({})).toBe(false);
    lock.release(a);
    await waiting;
    expect(lock.holder).toBe(next);
    lock.release(next);
    await new Promise((r) => setImmediate(r));
    expect(lock.locked).toBe(false);
  });

  it('ignores a release by someone who does not hold it', () => {
    const lock = new ObjectLock();
    const a = {};
    lock.tryAcquire(a);
    lock.release({});
    expect(lock.holder).toBe(a);
  });
});
