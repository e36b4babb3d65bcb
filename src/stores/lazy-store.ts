/**
 * A store that is created and opened at its first use instead of by `open()`.
 */
import { StoreError } from '../errors.js';
import type { ApplyOptions, ListOptions, ListPage, ObjectKey, Store, StoredObject, WriteOp } from './store.js';

/**
 * Defers creating a store until something reads or writes it. The runtime
 * uses it for the default SQLite file when a remote `url` is configured: a
 * process that only invokes through the server then leaves no
 * `.oaas/state.db` behind, while one that also keeps objects locally gets
 * its file at the first load or commit. A failed creation is retried at the
 * next call.
 */
export class LazyStore implements Store {
  private opening: Promise<Store> | undefined;
  private closed = false;

  /** @param create makes and opens the real store; called at most once per success. */
  constructor(
    readonly name: string,
    private readonly create: () => Promise<Store>,
  ) {}

  /** Opens nothing: the store is created at its first use. */
  open(): Promise<void> {
    return Promise.resolve();
  }

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.store().then((store) => store.get(key));
  }

  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.store().then((store) => store.getMany(keys));
  }

  apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    return this.store().then((store) => store.apply(ops, options));
  }

  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage> {
    return this.store().then((store) => store.list(clsId, partitionId, options));
  }

  /** Closes the real store if it was ever created; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const store = await this.opening?.catch(() => undefined);
    await store?.close();
  }

  private store(): Promise<Store> {
    if (this.closed) return Promise.reject(new StoreError(`${this.name} store is closed`, { transient: false }));
    this.opening ??= this.create().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }
}
