import { encodeState, textToBytes } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';
import type { OutboxWrite } from '../object/object-core.js';
import { encodeReminders, nextWake, REMINDERS_ENTRY } from '../object/reminders.js';
import { OUTBOX_ENTRY, outboxWake } from '../triggers/outbox.js';
import { outboxChange } from './outbox-change.js';
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
  /** What it writes of the outbox, if anything. */
  readonly outbox?: OutboxWrite | undefined;
}

/** One of the SDK's own entries a put writes: its text, or `null` to remove it. */
export interface ReservedWrite {
  readonly key: string;
  readonly text: string | null;
}

/**
 * A put computed from a live object, and the change it belongs to (one
 * object per written object, not two). It carries the object's whole state
 * as one document (`state`, for stores that keep an object in one row) and
 * the delta (`set`), which is only encoded to bytes if a store reads it.
 */
export class ObjectPut implements TrustedPut, ObjectChange {
  readonly kind = 'put';
  readonly key: ObjectKey;
  /** The object's store hint; the store updates it when it writes the put. */
  hint: number | undefined;
  private delta: Map<string, Uint8Array> | undefined;

  constructor(
    readonly core: ObjectCore,
    readonly seq: number,
    readonly expectedVersion: number,
    readonly state: string | undefined,
    readonly entryCount: number | undefined,
    private readonly texts: readonly (string | undefined)[],
    /** The SDK's own entries (reminders, outbox) this put writes or removes. */
    private readonly reserved: readonly ReservedWrite[] | undefined,
    readonly wakeAt: number | null | undefined,
    readonly reminders: string | null | undefined,
    readonly outbox: OutboxWrite | undefined,
  ) {
    this.key = core.key;
    this.hint = core.storeHint;
  }

  get op(): this {
    return this;
  }

  get encoded(): readonly (string | undefined)[] {
    return this.texts;
  }

  private get fields(): StateFields {
    return this.core.fields;
  }

  /** Each entry written with its text: the changed fields, then the SDK's own entries. */
  appendSetTexts(into: unknown[]): number {
    const fields = this.fields;
    let n = 0;
    for (let i = 0; i < this.texts.length; i++) {
      const text = this.texts[i];
      if (text === undefined) continue;
      into.push(fields.keyOf(fields.props[i]!), text);
      n += 1;
    }
    for (const { key, text } of this.reserved ?? []) {
      if (text === null) continue;
      into.push(key, text);
      n += 1;
    }
    return n;
  }

  /**
   * The fields this put writes, without encoding their bytes: what change
   * events name. The SDK's own entries (reminders, outbox) are not the
   * application's, so they are left out.
   */
  get changed(): readonly string[] {
    return changedKeys(this.fields, this.texts);
  }

  get set(): ReadonlyMap<string, Uint8Array> {
    if (this.delta === undefined) {
      const pairs: string[] = [];
      this.appendSetTexts(pairs);
      this.delta = new Map();
      for (let i = 0; i < pairs.length; i += 2) this.delta.set(pairs[i]!, textToBytes(pairs[i + 1]!));
    }
    return this.delta;
  }

  get remove(): readonly string[] | undefined {
    const removed = this.reserved?.filter((r) => r.text === null).map((r) => r.key);
    return removed === undefined || removed.length === 0 ? undefined : removed;
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
  } else {
    // The first 31 fields by their bits, lowest first; the rest by name.
    for (let bits = core.dirtyBits; bits !== 0; bits &= bits - 1) {
      const i = 31 - Math.clz32(bits & -bits);
      const text = encodeState(core.target[props[i]!]);
      if (core.committedTextAt(i) === text) continue;
      texts[i] = text;
      changed += 1;
    }
    for (const prop of core.dirtyMore ?? []) {
      const i = fields.indexOf(prop);
      if (i < 0) continue;
      const text = encodeState(core.target[prop]);
      if (core.committedTextAt(i) === text) continue;
      texts[i] = text;
      changed += 1;
    }
  }
  // Reminders are state too, and so are trigger events (the outbox): this commit writes what changed of them.
  let reminders: string | null | undefined;
  let outbox: OutboxWrite | undefined;
  const own = core.hasOwnEntries;
  const current = own ? core.reminders : undefined;
  if (own) {
    if (isNew ? current !== undefined : core.isDirty(REMINDERS_ENTRY)) {
      const text = encodeReminders(current) ?? null;
      if (text !== (core.committedReminders ?? null)) reminders = text;
    }
    outbox = outboxChange(core, isNew, changed === 0 ? [] : changedKeys(fields, texts));
  }
  if (!isNew && changed === 0 && reminders === undefined && outbox === undefined) return { core, op: undefined, seq, encoded: undefined };
  let reserved: ReservedWrite[] | undefined;
  if (reminders !== undefined) (reserved ??= []).push({ key: REMINDERS_ENTRY, text: reminders });
  if (outbox !== undefined) (reserved ??= []).push({ key: OUTBOX_ENTRY, text: outbox.text });
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
    const ownTexts = own ? [reminders === undefined ? core.committedReminders : reminders, outbox === undefined ? core.committedOutbox : outbox.text] : NO_OWN_TEXTS;
    for (let i = 0; i < ownTexts.length; i++) {
      const text = ownTexts[i];
      if (text === undefined || text === null) continue;
      state += entryCount === 0 ? `${RESERVED_JSON_KEYS[i]!}:${text}` : `,${RESERVED_JSON_KEYS[i]!}:${text}`;
      entryCount += 1;
    }
    state += '}';
  }
  // Named only when it may have moved: a batch that names no wake time leaves the store's wake index alone.
  const wakeAt = reminders === undefined && outbox === undefined ? undefined : earliest(nextWake(current), outboxWake(outbox === undefined ? core.outbox?.filter((e) => e.id !== '') : outbox.list));
  return new ObjectPut(core, seq, isNew ? 0 : core.version, state, entryCount, texts, reserved, wakeAt, reminders, outbox);
}

const NO_OWN_TEXTS: readonly (string | null | undefined)[] = [];

/** The JSON member names of the SDK's own entries in a state document, in the order they are written. */
const RESERVED_JSON_KEYS = [JSON.stringify(REMINDERS_ENTRY), JSON.stringify(OUTBOX_ENTRY)];

function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

/** The entry keys of the fields a change writes. */
function changedKeys(fields: StateFields, texts: readonly (string | undefined)[]): string[] {
  const keys: string[] = [];
  for (let i = 0; i < texts.length; i++) if (texts[i] !== undefined) keys.push(fields.keyOf(fields.props[i]!));
  return keys;
}
