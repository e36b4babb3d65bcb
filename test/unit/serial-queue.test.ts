import { describe, expect, it } from 'vitest';
import { InternalError } from '../../src/errors.js';
import { SerialQueue } from '../../src/session/serial-queue.js';

/** A task that records when it starts and ends, and finishes when `release` is called. */
function gated(log: string[], name: string): { task: () => Promise<string>; release: (fail?: boolean) => void } {
  let release!: (fail?: boolean) => void;
  const gate = new Promise<boolean>((resolve) => {
    release = (fail = false) => resolve(fail);
  });
  return {
    task: async () => {
      log.push(`${name} start`);
      const fail = await gate;
      log.push(`${name} end`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    },
    release,
  };
}

describe('SerialQueue', () => {
  it('starts a task added to an empty line at once, in the caller`s tick', () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const a = gated(log, 'a');
    void queue.add(a.task);
    expect(log).toEqual(['a start']);
    expect(queue.backlog).toBe(1);
    a.release();
  });

  it('runs tasks one at a time in the order they were added, each with its own result', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const [a, b, c] = ['a', 'b', 'c'].map((name) => gated(log, name));
    const results = [queue.add(a!.task), queue.add(b!.task), queue.add(c!.task)];
    expect(queue.backlog).toBe(3);
    c!.release();
    b!.release();
    await new Promise((r) => setImmediate(r));
    // b and c are released, but neither starts before a has finished.
    expect(log).toEqual(['a start']);
    a!.release();
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
    expect(queue.backlog).toBe(0);
  });

  it('goes on after a task rejects or throws synchronously, and hands each caller its own failure', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const a = gated(log, 'a');
    const first = queue.add(a.task);
    const second = queue.add(() => {
      throw new Error('sync throw');
    });
    const third = queue.add(async () => 'third');
    a.release(true);
    await expect(first).rejects.toThrow('a failed');
    await expect(second).rejects.toThrow('sync throw');
    await expect(third).resolves.toBe('third');
    // A synchronous throw on an empty line rejects too, rather than throwing at the caller.
    await expect(
      queue.add(() => {
        throw new Error('alone');
      }),
    ).rejects.toThrow('alone');
    expect(queue.backlog).toBe(0);
  });

  it('resolves onIdle once every task added so far has finished, and at once when empty', async () => {
    const queue = new SerialQueue();
    await queue.onIdle();
    const log: string[] = [];
    const [a, b] = ['a', 'b'].map((name) => gated(log, name));
    void queue.add(a!.task);
    void queue.add(b!.task).catch(() => undefined);
    let idle = false;
    const waiting = queue.onIdle().then(() => {
      idle = true;
    });
    a!.release();
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    b!.release(true);
    await waiting;
    expect(idle).toBe(true);
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end']);
  });

  it('runs a synchronous task at once on an empty line, and hands back its result or its throw', () => {
    const queue = new SerialQueue();
    let backlogInside = -1;
    expect(
      queue.runNow(() => {
        backlogInside = queue.backlog;
        return 'now';
      }),
    ).toBe('now');
    expect(backlogInside).toBe(1);
    expect(() =>
      queue.runNow(() => {
        throw new Error('sync failure');
      }),
    ).toThrow('sync failure');
    // Neither left the line busy.
    expect(queue.backlog).toBe(0);
    expect(queue.runNow(() => 2)).toBe(2);
  });

  it('starts a task added while a synchronous one runs only after it, and resolves onIdle after both', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let added!: Promise<string>;
    let idle!: Promise<void>;
    queue.runNow(() => {
      log.push('now start');
      added = queue.add(async () => {
        log.push('added runs');
        return 'added';
      });
      idle = queue.onIdle().then(() => {
        log.push('idle');
      });
      log.push('now end');
    });
    expect(log).toEqual(['now start', 'now end']);
    expect(await added).toBe('added');
    await idle;
    expect(log).toEqual(['now start', 'now end', 'added runs', 'idle']);
    expect(queue.backlog).toBe(0);
  });

  it('refuses to run a synchronous task while the line is busy, and the busy line goes on', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const a = gated(log, 'a');
    const first = queue.add(a.task);
    let ran = false;
    expect(() =>
      queue.runNow(() => {
        ran = true;
      }),
    ).toThrow(InternalError);
    expect(ran).toBe(false);
    expect(queue.backlog).toBe(1);
    a.release();
    await expect(first).resolves.toBe('a');
    expect(queue.backlog).toBe(0);
  });
});
