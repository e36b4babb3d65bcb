import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OaasObject, SerializationError, commitAll, getter, method, service, setter } from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tick } from '../support/runtime.js';

shutdownAfterEach();

@service('Job', { package: 'stream' })
class Job extends OaasObject {
  done = 0;
  profile = { name: 'ada', secret: 'x' };

  @getter() getDone!: () => Promise<number>;
  @getter('profile', { projection: ['name'] }) getName!: () => Promise<{ name: string }>;
  @setter() setDone!: (value: number) => Promise<void>;

  /** Streams its progress, checkpointing after each step. */
  @method()
  async *run(steps: number, failAt = 0): AsyncGenerator<number> {
    for (let i = 1; i <= steps; i++) {
      this.done += 1;
      if (i === failAt) throw new Error(`step ${i} failed`);
      await this.checkpoint();
      yield this.done;
    }
  }
}

describe('getters and setters', () => {
  it('read and write one field without a method body, with projection and validation', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const job = Job.create({ done: 2 }, { id: 'acc' });
    expect(await job.getDone()).toBe(2);
    expect(await job.getName()).toEqual({ name: 'ada' });
    await job.setDone(7);
    expect(job.done).toBe(7);
    await expect(job.setDone((() => 1) as unknown as number)).rejects.toBeInstanceOf(SerializationError);
    await expect((job.getDone as unknown as (x: number) => Promise<number>)(1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await commitAll();
    expect(entryValue(await store.get(job.asRef()), 'done')).toBe(7);
  });
});

describe('streaming methods', () => {
  it('stream values, commit each checkpoint, and keep the object for the whole stream', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const job = Job.create({}, { id: 'streamed' });
    await commitAll();
    const seen: number[] = [];
    for await (const value of job.run(3)) {
      seen.push(value);
      expect(entryValue(await store.get(job.asRef()), 'done')).toBe(value);
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it('go back to the last checkpoint when the stream fails or its consumer stops early', async () => {
    await freshRuntime();
    const job = Job.create({}, { id: 'aborted' });
    await expect(async () => {
      for await (const _ of job.run(5, 3)) void _;
    }).rejects.toThrow('step 3 failed');
    expect(job.done).toBe(2);
    for await (const value of job.run(5)) if (value === 4) break;
    expect(job.done).toBe(4);
  });

  it('hold the object from the first value to the last', async () => {
    await freshRuntime();
    const job = Job.create({}, { id: 'held' });
    const stream = job.run(2);
    await stream.next();
    const setter = job.setDone(100);
    // Turns of the event loop in which the setter would run if the stream did not hold the object.
    for (let i = 0; i < 10; i++) await tick();
    expect(job.done).toBe(1);
    await stream.next();
    await stream.next();
    await setter;
    expect(job.done).toBe(100);
  });
});
