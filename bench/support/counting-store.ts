/** A store wrapper that counts what reaches the database: batches, objects and bytes. */
import type { ApplyOptions, ListOptions, ListPage, ObjectKey, Store, StoredObject, WriteOp } from '../../src/index.js';

const encoder = new TextEncoder();

/** Bytes one op carries: its key, and each entry's key and value. */
export function opBytes(op: WriteOp): number {
  let bytes = encoder.encode(op.key.clsId).length + encoder.encode(op.key.objectId).length + 8;
  if (op.kind === 'put') {
    for (const [key, value] of op.set ?? []) bytes += encoder.encode(key).length + value.byteLength;
    for (const key of op.remove ?? []) bytes += encoder.encode(key).length;
  }
  return bytes;
}

export class CountingStore implements Store {
  readonly name: string;
  /** Store transactions (one per `apply`). */
  applies = 0;
  /** Objects written. */
  ops = 0;
  /** Payload bytes written (keys and entry values). */
  bytes = 0;

  constructor(private readonly inner: Store) {
    this.name = `counting(${inner.name})`;
  }

  reset(): void {
    this.applies = 0;
    this.ops = 0;
    this.bytes = 0;
  }

  open(): Promise<void> {
    return this.inner.open();
  }
  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.inner.get(key);
  }
  getMany(keys: readonly ObjectKey[]): Promise<readonly (StoredObject | undefined)[]> {
    return this.inner.getMany(keys);
  }
  async apply(ops: readonly WriteOp[], options?: ApplyOptions): Promise<readonly number[]> {
    const versions = await this.inner.apply(ops, options);
    this.applies += 1;
    this.ops += ops.length;
    for (const op of ops) this.bytes += opBytes(op);
    return versions;
  }
  list(clsId: string, partitionId: number, options?: ListOptions): Promise<ListPage> {
    return this.inner.list(clsId, partitionId, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
