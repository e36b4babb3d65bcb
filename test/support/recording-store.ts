import type { ApplyOptions, ListOptions, ListPage, ObjectKey, Store, StoredObject, WriteOp } from '../../src/index.js';
import { MemoryStore } from '../../src/index.js';

/**
 * A real store (memory by default) that records every batch and can be told
 * to fail the next commits, for tests of what the SDK writes and how it
 * survives store failures.
 */
export class RecordingStore implements Store {
  readonly name = 'recording';
  readonly batches: WriteOp[][] = [];
  readonly applyOptions: (ApplyOptions | undefined)[] = [];
  private failures: (() => Error)[] = [];
  /** When set, `apply` waits for this promise before writing. */
  gate: Promise<void> | undefined;
  /** When set, `get` waits for this promise before reading. */
  readGate: Promise<void> | undefined;
  /** How many batches had been written when each `close()` was called. */
  readonly closedAfter: number[] = [];

  constructor(readonly inner: Store = new MemoryStore()) {}

  /** The next `n` applies reject with the error `make` builds. */
  failNext(n: number, make: () => Error): void {
    for (let i = 0; i < n; i++) this.failures.push(make);
  }

  /** The inner store's due(), when it has one. */
  get due(): Store['due'] {
    const inner = this.inner;
    return inner.due === undefined ? undefined : (until, options) => inner.due!(until, options);
  }

  open(): Promise<void> {
    return this.inner.open();
  }
  async get(key: ObjectKey): Promise<StoredObject | undefined> {
    if (this.readGate !== undefined) await this.readGate;
    return this.inner.get(key);
  }
  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.inner.getMany(keys);
  }
  async apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    if (this.gate !== undefined) await this.gate;
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure();
    const versions = await this.inner.apply(ops, options);
    this.batches.push([...ops]);
    this.applyOptions.push(options);
    return versions;
  }
  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage> {
    return this.inner.list(clsId, partitionId, options);
  }
  close(): Promise<void> {
    this.closedAfter.push(this.batches.length);
    return this.inner.close();
  }

  /** Entry keys written for one object id across all batches. */
  writtenKeys(objectId: string): string[][] {
    return this.batches.flatMap((b) => b.filter((op) => op.key.objectId === objectId).map((op) => (op.kind === 'put' ? [...(op.set?.keys() ?? [])] : ['<delete>'])));
  }
}

/** Decodes a stored entry to its value (entries are UTF-8 JSON). */
export function entryValue(stored: StoredObject | undefined, key: string): unknown {
  const bytes = stored?.entries.get(key);
  return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as unknown);
}
