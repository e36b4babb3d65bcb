import { isPlainScalar, toStateValue } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';

/**
 * What one object looked like before a call or scope first changed it: the
 * rollback record. A frame copies a field the first time it is written in
 * that frame; on success it hands its copies to the enclosing frame (which
 * keeps its own older ones), on failure it puts them back.
 *
 * The copies sit in two parallel arrays rather than a Map: a call usually
 * records one or two fields, and every call makes a frame. The props are
 * top-level state fields, so a search is bounded by the class's field count.
 */
export class UndoFrame {
  private savedProps: string[] | undefined;
  private savedValues: unknown[] | undefined;
  private deletedBefore: boolean | undefined;
  /** The object was created inside this frame: rolling back discards it. */
  created = false;

  constructor(
    readonly core: ObjectCore,
    readonly parent: UndoFrame | undefined,
  ) {}

  /** Copies the field's current value unless this frame already has it. */
  record(prop: string): void {
    if (this.created) return;
    const props = this.savedProps;
    if (props !== undefined && props.includes(prop)) return;
    const current = this.core.target[prop];
    const copy = isPlainScalar(current) ? current : toStateValue(current, this.core.location(prop));
    this.save(prop, copy);
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
    const props = this.savedProps;
    if (props !== undefined) {
      const values = this.savedValues!;
      for (let i = 0; i < props.length; i++) if (parent.savedProps?.includes(props[i]!) !== true) parent.save(props[i]!, values[i]);
    }
    if (this.deletedBefore !== undefined) parent.deletedBefore ??= this.deletedBefore;
  }

  /** Puts the recorded values back. Creations are undone by the scope, not here. */
  restore(): void {
    const core = this.core;
    const props = this.savedProps;
    if (props !== undefined) {
      const values = this.savedValues!;
      for (let i = 0; i < props.length; i++) {
        core.target[props[i]!] = values[i];
        core.markDirty(props[i]!);
      }
    }
    if (this.deletedBefore !== undefined) core.restoreDeleted(this.deletedBefore);
    this.reset();
  }

  /** Forgets the records: the current state becomes the rollback point. */
  reset(): void {
    this.savedProps = undefined;
    this.savedValues = undefined;
    this.deletedBefore = undefined;
  }

  private save(prop: string, value: unknown): void {
    if (this.savedProps === undefined) {
      this.savedProps = [prop];
      this.savedValues = [value];
      return;
    }
    this.savedProps.push(prop);
    this.savedValues!.push(value);
  }
}
