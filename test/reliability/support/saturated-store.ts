import { Semaphore } from 'async-mutex';
import { setTimeout as sleep, setImmediate as nextTurn } from 'node:timers/promises';
import type { ApplyOptions, Store, WriteOp } from '../../../src/index.js';
import { RecordingStore } from '../../support/recording-store.js';

/**
 * A recording store that is always busy: every batch waits for one of a few
 * permits and then for the event loop (now and then for a timer) before it is
 * written, so commits queue up behind each other.
 */
export class SaturatedStore extends RecordingStore {
  private readonly permits: Semaphore;
  private applied = 0;

  constructor(inner?: Store, permits = 1) {
    super(inner);
    this.permits = new Semaphore(permits);
  }

  override async apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.permits.runExclusive(async () => {
      this.applied += 1;
      if (this.applied % 200 === 0) await sleep(2);
      else await nextTurn();
      return super.apply(ops, options);
    });
  }
}
