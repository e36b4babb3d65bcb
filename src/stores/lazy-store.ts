/**
 * A store that is created and opened at its first use instead of by `open()`.
 */
import { StoreError } from '../errors.js';
import type { ApplyOptions, DueObject, DueOptions, ListOptions, ListPage, ObjectKey, Store, StoredObject, WriteOp } from './store.js';
import { checkDueArgs } from './validate.js';

/** Options of {@link LazyStore}. */
export interface LazyStoreOptions {
  /**
   * Whether the store it creates answers `due` (SQLite does). A lazy store
   * has no store to ask until it creates one, so its maker says.
   * @default false
   */
  readonly due?: boolean | undefined;
  /**
   * Whether the store's data exists yet (its file, say). Until the store is
   * created, `due` creates it only when it does: a store that does not exist
   * has nothing due, and asking it must not bring it into being.
   * @default () => true
   */
  readonly exists?: (() => boolean) | undefined;
}

/**
 * Defers creating a store until something reads or writes it. The runtime
 * uses it for the default SQLite file when a remote `url` is configured: a
 * process that only invokes through the server then leaves no
 * `.oaas/state.db` behind, while one that also keeps objects locally gets
 * its file at the first load or commit. A failed creation is retried at the
 * next call.
 */
export class LazyStore implements Store {
  /** Present when the store it creates answers `due` (see {@link LazyStoreOptions.due}). */
  readonly due: Store['due'];
  private opening: Promise<Store> | undefined;
  private closed = false;

  /** @param create makes and opens the real store; called at most once per success. */
  constructor(
    readonly name: string,
    private readonly create: () => Promise<Store>,
    options: LazyStoreOptions = {},
  ) {
    const exists = options.exists ?? (() => true);
    this.due = options.due === true ? (until, dueOptions) => this.dueOf(exists, until, dueOptions) : undefined;
  }

  /** Opens nothing: the store is created at its first use. Rejects once closed, as every store's does. */
  open(): Promise<void> {
    return this.closed ? Promise.reject(this.closedError()) : Promise.resolve();
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

  private async dueOf(exists: () => boolean, until: number, options: DueOptions | undefined): Promise<readonly DueObject[]> {
    if (this.opening === undefined && !this.closed && !exists()) {
      checkDueArgs(until, options); // bad arguments are refused whether or not the store exists
      return [];
    }
    const store = await this.store();
    if (store.due === undefined) throw new StoreError(`the ${this.name} store keeps no wake times: it has no due()`, { transient: false });
    return store.due(until, options);
  }

  private closedError(): StoreError {
    return new StoreError(`${this.name} store is closed`, { transient: false });
  }

  private store(): Promise<Store> {
    if (this.closed) return Promise.reject(this.closedError());
    this.opening ??= this.create().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }
}
