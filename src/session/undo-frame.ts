import { toStateValue } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';

/**
 * What one object looked like before a call or scope first changed it: the
 * rollback record. A frame copies a field the first time it is written in
 * that frame; on success it hands its copies to the enclosing frame (which
 * keeps its own older ones), on failure it puts them back.
 */
export class UndoFrame {
  private saved: Map<string, unknown> | undefined;
  private deletedBefore: boolean | undefined;
  /** The object was created inside this frame: rolling back discards it. */
  created = false;

  constructor(
    readonly core: ObjectCore,
    readonly parent: UndoFrame | undefined,
  ) {}

  /** Copies the field's current value unless this frame already has it. */
  record(prop: string): void {
    if (this.created || this.saved?.has(prop) === true) return;
    (this.saved ??= new Map()).set(prop, toStateValue(this.core.target[prop], this.core.location(prop)));
  }

  recordDelete(): void {
    if (!this.created) this.deletedBefore ??= this.core.deleted;
  }

  /** Hands the records to the enclosing frame; the older record wins. */
  mergeIntoParent(): void {
    if (this.parent !== undefined) this.mergeInto(this.parent);
  }

  /** Hands the records to `parent`; the older record wins. */
  mergeInto(parent: UndoFrame): void {
    if (this.created) {
      parent.created = true;
      return;
    }
    if (parent.created) return;
    if (this.saved !== undefined) {
      parent.saved ??= new Map();
      for (const [prop, value] of this.saved) if (!parent.saved.has(prop)) parent.saved.set(prop, value);
    }
    if (this.deletedBefore !== undefined) parent.deletedBefore ??= this.deletedBefore;
  }

  /** Puts the recorded values back. Creations are undone by the scope, not here. */
  restore(): void {
    const core = this.core;
    if (this.saved !== undefined) {
      for (const [prop, value] of this.saved) {
        core.target[prop] = value;
        core.markDirty(prop);
      }
    }
    if (this.deletedBefore !== undefined) core.restoreDeleted(this.deletedBefore);
    this.reset();
  }

  /** Forgets the records: the current state becomes the rollback point. */
  reset(): void {
    this.saved = undefined;
    this.deletedBefore = undefined;
  }
}
