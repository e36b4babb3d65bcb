/** An object's state as the wire carries it (`ObjectState`): read from a live instance, or put into one. */
import type { ObjectState } from '../protocol/wire.js';
import { decodeState, encodeState } from './codec.js';
import type { ObjectCore } from './object-core.js';

/** The state of an instance: its version and each field in the codec's JSON form. */
export function wireStateOf(core: ObjectCore): ObjectState {
  const entries: Record<string, unknown> = {};
  for (const prop of core.fields.props) {
    // defineProperty: an entry key such as `__proto__` stays an own entry.
    Object.defineProperty(entries, core.fields.keyOf(prop), {
      value: JSON.parse(encodeState(core.target[prop])) as unknown,
      enumerable: true,
    });
  }
  return {
    metadata: { cls_id: core.key.clsId, partition_id: core.key.partitionId, object_id: core.key.objectId },
    version: core.version,
    entries,
  };
}

/** Puts a state read from another process into an instance (a forwarding one): its fields and version. Unknown entries are ignored. */
export function adoptWireState(core: ObjectCore, state: ObjectState): void {
  const fields: [string, unknown, string][] = [];
  for (const [entryKey, wire] of Object.entries(state.entries)) {
    const prop = core.fields.propOf(entryKey);
    if (prop === undefined) continue;
    const text = JSON.stringify(wire);
    fields.push([prop, decodeState(text), text]);
  }
  core.adoptStored(state.version, fields);
}
