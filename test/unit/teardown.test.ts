// The suites' teardown must not hide a flush that failed: these check the helper every suite uses.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/index.js';
import { rejection } from '../support/promises.js';
import { RecordingStore } from '../support/recording-store.js';
import { checkedShutdown, expectFailedShutdown, freshRuntime } from '../support/runtime.js';
import { Counter } from '../support/services.js';

async function runtimeThatCannotFlush(): Promise<void> {
  const store = new RecordingStore();
  await freshRuntime({ store });
  Counter.create({}, { id: 'stuck' });
  store.failNext(1000, () => new StoreError('disk full', { transient: false }));
}

describe('checkedShutdown (the teardown of every suite)', () => {
  it('fails when the flush fails and the test did not say it would', async () => {
    await runtimeThatCannotFlush();
    const error = await rejection(checkedShutdown());
    expect((error as Error).message).toMatch(/^shutdown after the test failed: .*disk full.*expectFailedShutdown/);
  });

  it('passes a failure the test announced', async () => {
    await runtimeThatCannotFlush();
    expectFailedShutdown();
    await checkedShutdown();
  });

  it('fails when an announced failure does not happen, and forgets the announcement after one teardown', async () => {
    await freshRuntime();
    Counter.create({}, { id: 'fine' });
    expectFailedShutdown();
    const error = await rejection(checkedShutdown());
    expect((error as Error).message).toMatch(/announced a failing shutdown/);
    await runtimeThatCannotFlush();
    await expect(checkedShutdown()).rejects.toThrow(/shutdown after the test failed/);
  });

  it('passes a clean flush', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    Counter.create({}, { id: 'clean' });
    await checkedShutdown();
    expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['clean']);
  });
});
