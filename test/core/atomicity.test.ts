import { describe, expect, it } from 'vitest';
import { OaasObject, commitAll, method, service } from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

/** Failures still to inject, kept outside the object so rollbacks do not reset it. */
let failuresLeft = 0;
let runs = 0;

@service('Flaky', { package: 'test' })
class Flaky extends OaasObject {
  attempts = 0;
  done = false;
  @method({ retries: 2, retryDelayMs: 1 })
  async work(): Promise<number> {
    runs += 1;
    this.attempts += 1;
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      throw new Error('transient failure');
    }
    this.done = true;
    return this.attempts;
  }
}

describe('method atomicity', () => {
  it('restores the fields a failing call changed and passes its error through unchanged', async () => {
    await freshRuntime();
    const c = Counter.create({ count: 1, history: [1] }, { id: 'atomic' });
    const error = await c.incrementThenFail(5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe('refused 5');
    expect(c.count).toBe(1);
    expect(c.history).toEqual([1]);
  });

  it('keeps earlier successful calls when a later one fails', async () => {
    await freshRuntime();
    const c = Counter.create({}, { id: 'partial' });
    await c.increment(2);
    await expect(c.incrementThenFail(10)).rejects.toThrow('refused 10');
    await c.increment(3);
    expect(c.count).toBe(5);
    expect(c.history).toEqual([2, 3]);
  });

  it('rolls back only the inner call when a re-entrant call fails and the outer one catches it', async () => {
    @service('Outer', { package: 'test' })
    class Outer extends OaasObject {
      log: string[] = [];
      @method() async outer(): Promise<void> {
        this.log.push('outer');
        await this.inner().catch(() => undefined);
        this.log.push('after');
      }
      @method() async inner(): Promise<void> {
        this.log.push('inner');
        throw new Error('inner failed');
      }
    }
    await freshRuntime();
    const o = Outer.create({}, { id: 'o' });
    await o.outer();
    expect(o.log).toEqual(['outer', 'after']);
  });

  it('commits progress at each checkpoint and rolls back only to the last one', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'steps' });
    await commitAll();
    await expect(c.steps(5, 4)).rejects.toThrow('step 4 failed');
    expect(c.count).toBe(3);
    const stored = await store.get({ clsId: 'test.Counter', partitionId: 0, objectId: 'steps' });
    expect(entryValue(stored, 'count')).toBe(3);
  });

  it('re-runs a failing call after its rollback when the method has retries', async () => {
    await freshRuntime();
    const f = Flaky.create({}, { id: 'flaky' });
    failuresLeft = 2;
    runs = 0;
    // Failed runs are rolled back, so the successful third run starts from attempts = 0.
    expect(await f.work()).toBe(1);
    expect(runs).toBe(3);
    expect(f.done).toBe(true);

    failuresLeft = 3;
    runs = 0;
    await expect(f.work()).rejects.toThrow('transient failure');
    expect(runs).toBe(3);
    expect(f.attempts).toBe(1);
  });
});
