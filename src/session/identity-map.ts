import type { ObjectCore } from '../object/object-core.js';

/**
 * One live instance per object per process. Entries are weak: an object that
 * nothing references (and that has nothing pending, since sessions hold
 * pending objects strongly) is released, and a later load reads it again.
 */
export class IdentityMap {
  private readonly entries = new Map<string, WeakRef<ObjectCore>>();
  private readonly finalizer = new FinalizationRegistry<string>((key) => {
    const ref = this.entries.get(key);
    if (ref !== undefined && ref.deref() === undefined) this.entries.delete(key);
  });

  get(key: string): ObjectCore | undefined {
    return this.entries.get(key)?.deref();
  }

  add(core: ObjectCore): void {
    this.entries.set(core.keyString, new WeakRef(core));
    // The proxy keeps the core alive (through the instance), so watching the core is enough.
    this.finalizer.register(core, core.keyString, core);
  }

  remove(core: ObjectCore): void {
    if (this.entries.get(core.keyString)?.deref() === core) this.entries.delete(core.keyString);
    this.finalizer.unregister(core);
  }

  /** Every live instance (a scan: for rare work such as moving objects to another process). */
  *cores(): IterableIterator<ObjectCore> {
    for (const ref of this.entries.values()) {
      const core = ref.deref();
      if (core !== undefined) yield core;
    }
  }

  /** Live entries (may include objects about to be collected). */
  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const ref of this.entries.values()) {
      const core = ref.deref();
      if (core !== undefined) this.finalizer.unregister(core);
    }
    this.entries.clear();
  }
}
