/**
 * Commits on a store that writes synchronously (`Store.applyNow`): with no
 * other commit in line, the whole commit runs in the caller's tick. These
 * check that it keeps every promise of the awaited path.
 */
import { describe, expect, it } from 'vitest';
import {
  CommitError,
  MemoryStore,
  StoreError,
  commitAll,
  configureOaas,
  getStats,
  runInSession,
  sessionScope,
  type ApplyOptions,
  type ListOptions,
  type ListPage,
  type ObjectKey,
  type Store,
  type StoredObject,
  type WriteOp,
} from '../../src/index.js';
import { entryValue } from '../support/recording-store.js';
import { shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

/** The memory store behind both write calls, recording which one each batch took and whether two ever overlapped. */
class SynchronousStore implements Store {
  readonly name = 'synchronous';
  readonly inner = new MemoryStore();
  readonly calls: ('apply' | 'applyNow')[] = [];
  overlapped = false;
  /** The next `applyNow` throws this. */
  failure: Error | undefined;
  /** Called once, inside the next `applyNow`, before it writes. */
  during: (() => void) | undefined;
  private writing = false;

  open(): Promise<void> {
    return this.inner.open();
  }
  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.inner.get(key);
  }
  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.inner.getMany(keys);
  }
  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return Promise.resolve().then(() => this.write('apply', ops, options));
  }
  applyNow(ops: readonly WriteOp[], options?: ApplyOptions): readonly number[] {
    return this.write('applyNow', ops, options);
  }
  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage> {
    return this.inner.list(clsId, partitionId, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private write(call: 'apply' | 'applyNow', ops: readonly WriteOp[], options: ApplyOptions | undefined): readonly number[] {
    if (this.writing) this.overlapped = true;
    this.writing = true;
    try {
      this.calls.push(call);
      if (call === 'applyNow') {
        const hook = this.during;
        this.during = undefined;
        hook?.();
        const failure = this.failure;
        this.failure = undefined;
        if (failure !== undefined) throw failure;
      }
      return this.inner.applyNow(ops, options);
    } finally {
      this.writing = false;
    }
  }
}

/** A runtime on a new SynchronousStore, with a stored counter for each id. */
async function runtimeWith(...ids: string[]): Promise<{ store: SynchronousStore; counters: Counter[] }> {
  const store = new SynchronousStore();
  await configureOaas({ store, autoCommit: false, logLevel: 'silent' });
  const counters = await runInSession(async () => {
    const made = ids.map((id) => Counter.create({}, { id }));
    await commitAll();
    return made;
  });
  return { store, counters };
}

describe('a commit on a store that writes synchronously', () => {
  it('writes through applyNow when nothing else is in line, scopes and explicit commits alike', async () => {
    const { store, counters } = await runtimeWith('a');
    const counter = counters[0]!;
    const before = store.calls.length;
    await sessionScope(async () => {
      await counter.increment();
    });
    await runInSession(async () => {
      await counter.increment();
      await commitAll();
    });
    expect(store.calls.slice(before)).toEqual(['applyNow', 'applyNow']);
    expect(entryValue(await store.inner.get(counter.asRef()), 'count')).toBe(2);
    expect(getStats().pendingObjects).toBe(0);
  });

  it('keeps a failed commit`s changes pending, rejects with the store`s typed error, and writes them at the next commit', async () => {
    const { store, counters } = await runtimeWith('a');
    const counter = counters[0]!;
    await runInSession(async () => {
      await counter.increment(5);
    });
    store.failure = new StoreError('disk full', { transient: true });
    const error = await commitAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitError);
    expect((error as CommitError).failures[0]).toBeInstanceOf(StoreError);
    expect(store.calls.at(-1)).toBe('applyNow');
    expect(getStats().pendingObjects).toBe(1);
    expect(entryValue(await store.inner.get(counter.asRef()), 'count')).toBe(0);
    await commitAll();
    expect(getStats().pendingObjects).toBe(0);
    expect(entryValue(await store.inner.get(counter.asRef()), 'count')).toBe(5);
  });

  it('rolls a scope back when its synchronous commit fails, and the scope`s promise rejects', async () => {
    const { store, counters } = await runtimeWith('a');
    const counter = counters[0]!;
    store.failure = new StoreError('disk full', { transient: false });
    await expect(
      sessionScope(async () => {
        await counter.increment(3);
      }),
    ).rejects.toBeInstanceOf(StoreError);
    expect(counter.count).toBe(0);
    expect(getStats().pendingObjects).toBe(0);
    expect(entryValue(await store.inner.get(counter.asRef()), 'count')).toBe(0);
  });

  it('makes a commit started while a synchronous one writes wait for it: the store never sees two at once', async () => {
    const { store, counters } = await runtimeWith('a', 'b');
    const [a, b] = counters;
    // Two sessions with pending changes; the first commit starts another commitAll from inside its write.
    await runInSession(async () => {
      await a!.increment();
    });
    await runInSession(async () => {
      await b!.increment(2);
    });
    let nested: Promise<unknown> | undefined;
    store.during = () => {
      nested = commitAll();
    };
    await commitAll();
    await nested;
    expect(nested).toBeDefined();
    expect(store.overlapped).toBe(false);
    expect(entryValue(await store.inner.get(a!.asRef()), 'count')).toBe(1);
    expect(entryValue(await store.inner.get(b!.asRef()), 'count')).toBe(2);
    expect(getStats().pendingObjects).toBe(0);
  });
});
