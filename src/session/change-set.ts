import { encodeState, textToBytes } from '../object/codec.js';
import type { ObjectCore } from '../object/object-core.js';
import type { WriteOp } from '../stores/store.js';

/** What one commit will do to one object, and what it saw when it looked. */
export interface ObjectChange {
  readonly core: ObjectCore;
  /** `undefined`: nothing to write (the edits cancelled out, or a never-stored object was deleted). */
  readonly op: WriteOp | undefined;
  /** The object's write counter when the change was computed. */
  readonly seq: number;
  /** Encodings this change writes, by property. */
  readonly encoded: ReadonlyMap<string, string>;
}

/**
 * Computes an object's change against what the store last saw. Only dirty
 * fields are encoded, so the cost follows what changed, not the object's size.
 */
export function computeChange(core: ObjectCore): ObjectChange {
  const seq = core.writeSeq;
  if (core.deleted) {
    const op: WriteOp | undefined = core.lifecycle === 'stored' ? { kind: 'delete', key: core.key, expectedVersion: core.version } : undefined;
    return { core, op, seq, encoded: new Map() };
  }
  const isNew = core.lifecycle === 'new';
  const props = isNew ? core.fields.props : core.dirty === undefined ? [] : [...core.dirty];
  const encoded = new Map<string, string>();
  const set = new Map<string, Uint8Array>();
  for (const prop of props) {
    if (!core.fields.has(prop)) continue;
    const text = encodeState(core.target[prop]);
    if (!isNew && core.committedText(prop) === text) continue;
    encoded.set(prop, text);
    set.set(core.fields.keyOf(prop), textToBytes(text));
  }
  if (!isNew && set.size === 0) return { core, op: undefined, seq, encoded };
  return { core, op: { kind: 'put', key: core.key, expectedVersion: isNew ? 0 : core.version, set }, seq, encoded };
}
