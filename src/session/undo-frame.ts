import { isPlainScalar, toStateValue } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';

/**
 * What one object looked like before a call or scope first changed it: the
 * rollback record. A frame copies a field the first time it is written in
 * that frame; on success it hands its copies to the enclosing frame (which
 * keeps its own older ones), on failure it puts them back.
 *
 * Every call has a frame and most write one or two fields, so the first copy
 * sits in the frame itself and the rest in one flat array of prop, value
 * pairs, not a Map. The props are top-level state fields, so a search is
 * bounded by the class's field count.
 */
export class UndoFrame {
  private firstProp: string | undefined;
  private firstValue: unknown;
  private more: unknown[] | undefined;
  private deletedBefore: boolean | undefined;
  /** The object was created inside this frame: rolling back discards it. */
  created = false;

  constructor(
    readonly core: ObjectCore,
    /** The enclosing frame of the same object, which a success hands its records to. */
    readonly enclosing: UndoFrame | undefined,
  ) {}

  /** Copies the field's current value unless this frame already has it. */
  record(prop: string): void {
    if (this.created || this.has(prop)) return;
    const current = this.core.target[prop];
    this.save(prop, isPlainScalar(current) ? current : toStateValue(current, this.core.location(prop)));
  }

  recordDelete(): void {
    if (!this.created) this.deletedBefore ??= this.core.deleted;
  }

  /** Hands the records to the enclosing frame; the older record wins. */
  mergeIntoParent(): void {
    if (this.enclosing !== undefined) this.mergeInto(this.enclosing);
  }

  /** Hands the records to `parent`; the older record wins. */
  mergeInto(parent: UndoFrame): void {
    if (this.created) {
      parent.created = true;
      return;
    }
    if (parent.created) return;
    if (this.firstProp !== undefined) {
      if (!parent.has(this.firstProp)) parent.save(this.firstProp, this.firstValue);
      const more = this.more;
      if (more !== undefined) {
        for (let i = 0; i < more.length; i += 2) {
          const prop = more[i] as string;
          if (!parent.has(prop)) parent.save(prop, more[i + 1]);
        }
      }
    }
    if (this.deletedBefore !== undefined) parent.deletedBefore ??= this.deletedBefore;
  }

  /** Puts the recorded values back. Creations are undone by the scope, not here. */
  restore(): void {
    const core = this.core;
    if (this.firstProp !== undefined) {
      core.target[this.firstProp] = this.firstValue;
      core.markDirty(this.firstProp);
      const more = this.more;
      if (more !== undefined) {
        for (let i = 0; i < more.length; i += 2) {
          const prop = more[i] as string;
          core.target[prop] = more[i + 1];
          core.markDirty(prop);
        }
      }
    }
    if (this.deletedBefore !== undefined) core.restoreDeleted(this.deletedBefore);
    this.reset();
  }

  /** Forgets the records: the current state becomes the rollback point. */
  reset(): void {
    this.firstProp = undefined;
    this.firstValue = undefined;
    this.more = undefined;
    this.deletedBefore = undefined;
  }

  private has(prop: string): boolean {
    if (this.firstProp === undefined) return false;
    if (this.firstProp === prop) return true;
    const more = this.more;
    if (more === undefined) return false;
    for (let i = 0; i < more.length; i += 2) if (more[i] === prop) return true;
    return false;
  }

  private save(prop: string, value: unknown): void {
    if (this.firstProp === undefined) {
      this.firstProp = prop;
      this.firstValue = value;
    } else if (this.more === undefined) this.more = [prop, value];
    else this.more.push(prop, value);
  }
}
