import { encodeState, textToBytes } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';
import { encodeReminders, nextWake, REMINDERS_ENTRY } from '../object/reminders.js';
import type { StateFields } from '../object/state-fields.js';
import type { ObjectKey, TrustedPut, WriteOp } from '../stores/store.js';

/** What one commit will do to one object, and what it saw when it looked. */
export interface ObjectChange {
  readonly core: ObjectCore;
  /** `undefined`: nothing to write (the edits cancelled out, or a never-stored object was deleted). */
  readonly op: WriteOp | undefined;
  /** The object's write counter when the change was computed. */
  readonly seq: number;
  /** Encodings this change writes, by field position (`undefined` where a field is unchanged). */
  readonly encoded: readonly (string | undefined)[] | undefined;
  /** The reminders entry this change writes: its text, `null` when it removes it, `undefined` when it leaves it. */
  readonly reminders?: string | null | undefined;
}

const REMINDERS_JSON_KEY = JSON.stringify(REMINDERS_ENTRY);

/**
 * A put computed from a live object. It carries the object's whole state as
 * one document (`state`, for stores that keep an object in one row) and the
 * delta (`set`), which is only encoded to bytes if a store reads it.
 */
export class ObjectPut implements TrustedPut {
  readonly kind = 'put';
  private delta: Map<string, Uint8Array> | undefined;

  constructor(
    readonly key: ObjectKey,
    /** The object's store hint; the store updates it when it writes the put. */
    public hint: number | undefined,
    readonly expectedVersion: number,
    readonly state: string | undefined,
    readonly entryCount: number | undefined,
    private readonly fields: StateFields,
    private readonly texts: readonly (string | undefined)[],
    /** The reminders entry: its new text, `null` to remove it, `undefined` to leave it. */
    private readonly reminders: string | null | undefined,
    readonly wakeAt: number | null,
  ) {}

  get setTexts(): Iterable<readonly [string, string]> {
    return this.changedTexts();
  }

  /** Each entry written with its text: the changed fields, then the reminders entry. */
  private *changedTexts(): Generator<readonly [string, string]> {
    for (let i = 0; i < this.texts.length; i++) {
      const text = this.texts[i];
      if (text !== undefined) yield [this.fields.keyOf(this.fields.props[i]!), text];
    }
    if (typeof this.reminders === 'string') yield [REMINDERS_ENTRY, this.reminders];
  }

  /**
   * The fields this put writes, without encoding their bytes: what change
   * events name. The reminders entry is the SDK's, not the application's,
   * so it is left out.
   */
  get changed(): readonly string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.texts.length; i++) if (this.texts[i] !== undefined) keys.push(this.fields.keyOf(this.fields.props[i]!));
    return keys;
  }

  get set(): ReadonlyMap<string, Uint8Array> {
    if (this.delta === undefined) {
      this.delta = new Map();
      for (const [key, text] of this.changedTexts()) this.delta.set(key, textToBytes(text));
    }
    return this.delta;
  }

  get remove(): readonly string[] | undefined {
    return this.reminders === null ? [REMINDERS_ENTRY] : undefined;
  }
}

/**
 * Computes an object's change against what the store last saw. Only dirty
 * fields are encoded, so the cost follows what changed, not the object's
 * size; the state document reuses the encodings the store already holds.
 */
export function computeChange(core: ObjectCore): ObjectChange {
  const seq = core.writeSeq;
  if (core.deleted) {
    const op: WriteOp | undefined = core.lifecycle === 'stored' ? { kind: 'delete', key: core.key, expectedVersion: core.version } : undefined;
    return { core, op, seq, encoded: undefined };
  }
  const fields = core.fields;
  const props = fields.props;
  const isNew = core.lifecycle === 'new';
  const texts = new Array<string | undefined>(props.length);
  let changed = 0;
  if (isNew) {
    for (let i = 0; i < props.length; i++) texts[i] = encodeState(core.target[props[i]!]);
    changed = props.length;
  } else if (core.dirty !== undefined) {
    for (const prop of core.dirty) {
      const i = fields.indexOf(prop);
      if (i < 0) continue;
      const text = encodeState(core.target[prop]);
      if (core.committedTextAt(i) === text) continue;
      texts[i] = text;
      changed += 1;
    }
  }
  // Reminders are state too: a new object writes them if it has any, a stored one when they changed.
  let reminders: string | null | undefined;
  const current = core.reminders;
  if (isNew ? current !== undefined : core.dirty?.has(REMINDERS_ENTRY) === true) {
    const text = encodeReminders(current) ?? null;
    if (text !== (core.committedReminders ?? null)) reminders = text;
  }
  if (!isNew && changed === 0 && reminders === undefined) return { core, op: undefined, seq, encoded: undefined };
  // The whole state, unless the store holds entries this class does not know (they must stay as they are).
  let state: string | undefined;
  let entryCount: number | undefined;
  if (!core.hasForeignEntries) {
    state = '{';
    entryCount = 0;
    for (let i = 0; i < props.length; i++) {
      const text = texts[i] ?? core.committedTextAt(i);
      if (text === undefined) continue;
      state += entryCount === 0 ? `${fields.jsonKeys[i]!}:${text}` : `,${fields.jsonKeys[i]!}:${text}`;
      entryCount += 1;
    }
    const remindersText = reminders === undefined ? core.committedReminders : (reminders ?? undefined);
    if (remindersText !== undefined) {
      state += entryCount === 0 ? `${REMINDERS_JSON_KEY}:${remindersText}` : `,${REMINDERS_JSON_KEY}:${remindersText}`;
      entryCount += 1;
    }
    state += '}';
  }
  const op = new ObjectPut(core.key, core.storeHint, isNew ? 0 : core.version, state, entryCount, fields, texts, reminders, nextWake(current));
  return { core, op, seq, encoded: texts, reminders };
}
