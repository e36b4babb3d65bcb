import { encodeState, textToBytes } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';
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
}

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
  ) {}

  get setTexts(): Iterable<readonly [string, string]> {
    return this.changedTexts();
  }

  private *changedTexts(): Generator<readonly [string, string]> {
    for (let i = 0; i < this.texts.length; i++) {
      const text = this.texts[i];
      if (text !== undefined) yield [this.fields.keyOf(this.fields.props[i]!), text];
    }
  }

  /** The entry keys this put writes, without encoding their bytes. */
  get changed(): readonly string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.texts.length; i++) if (this.texts[i] !== undefined) keys.push(this.fields.keyOf(this.fields.props[i]!));
    return keys;
  }

  get set(): ReadonlyMap<string, Uint8Array> {
    if (this.delta === undefined) {
      this.delta = new Map();
      for (let i = 0; i < this.texts.length; i++) {
        const text = this.texts[i];
        if (text !== undefined) this.delta.set(this.fields.keyOf(this.fields.props[i]!), textToBytes(text));
      }
    }
    return this.delta;
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
  if (!isNew && changed === 0) return { core, op: undefined, seq, encoded: undefined };
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
    state += '}';
  }
  return { core, op: new ObjectPut(core.key, core.storeHint, isNew ? 0 : core.version, state, entryCount, fields, texts), seq, encoded: texts };
}
