/**
 * An object's state as Oparaca's `ObjData`. Each field is one entry whose
 * bytes are what the SDK stores for it (the codec's JSON text, UTF-8), under
 * its key in lower case, as ODGM keeps entry keys; so ObjData written here
 * reads back through any path of the SDK, and the other way round.
 */
import { RegistrationError } from '../../errors.js';
import { bytesToText, decodeState, textToBytes } from '../../object/codec.js';
import { stateFieldsOf } from '../../object/state-fields.js';
import { decodeObjData, objDataFromJson, type DecodedObjData } from '../../protocol/oprc/obj-data.js';
import { VAL_TYPE, type ValData } from '../../protocol/oprc/messages.js';
import type { ObjectState } from '../../protocol/wire.js';
import type { ClassMeta } from '../../registry/class-meta.js';
import { invalidArgument, OPARACA_CODES, OparacaReply, replyError, unknownError } from './errors.js';

const ENTRY_KEY = /^[a-z0-9._:-]{1,160}$/;

/** The `ObjData` of an object's state. */
export function objDataOf(state: ObjectState): DecodedObjData {
  const entries: Record<string, ValData> = {};
  const owners = new Map<string, string>();
  for (const [key, wire] of Object.entries(state.entries)) {
    const lowered = key.toLowerCase();
    const other = owners.get(lowered);
    if (other !== undefined) {
      throw new RegistrationError(`${state.metadata.cls_id}: fields stored as ${other} and ${key} are one entry (${lowered}) on the Oparaca platform, which lowers entry keys`);
    }
    owners.set(lowered, key);
    // The wire form is the stored JSON parsed; its JSON text is the stored text again.
    Object.defineProperty(entries, lowered, { value: { data: textToBytes(JSON.stringify(wire)), type: VAL_TYPE.byte }, enumerable: true });
  }
  return { metadata: { ...state.metadata }, entries };
}

/**
 * A PUT body as `ObjData`, by its content type as the platform reads it:
 * `application/json` is JSON; `application/x-protobuf`, `application/octet-stream`
 * or none is protobuf; anything else is refused.
 */
export function readObjData(body: Uint8Array, contentType: string | undefined): DecodedObjData {
  const type = contentType ?? 'application/x-protobuf';
  let obj: DecodedObjData;
  if (type.startsWith('application/json')) {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
      obj = objDataFromJson(json);
    } catch (error) {
      throw unknownError((error as Error).message);
    }
  } else if (type.startsWith('application/x-protobuf') || type.startsWith('application/octet-stream')) {
    try {
      obj = decodeObjData(body);
    } catch (error) {
      throw new OparacaReply(422, OPARACA_CODES.invalidProtobuf, `Invalid protobuf: ${(error as Error).message.replace(/^ObjData: /, '')}`);
    }
  } else {
    throw unknownError(`unsupported content-type: ${type}`);
  }
  if (hasTriggers(obj.event)) throw invalidArgument('event: this runtime runs no triggers, so it keeps no event section; send ObjData without one');
  return obj;
}

/**
 * The entries of an `ObjData` as the gateway's `putState` takes them: keyed
 * by the class's field keys, each value the codec's JSON form. Entry keys are
 * lowered first, as ODGM does; an entry that is not a field, or whose bytes
 * are not a value the SDK stored, is refused before anything is written.
 */
export function stateEntriesOf(obj: DecodedObjData, meta: ClassMeta): Record<string, unknown> {
  const fields = stateFieldsOf(meta, new (meta.ctor as new () => object)());
  const keyByLowered = new Map(fields.props.map((prop) => [fields.keyOf(prop).toLowerCase(), fields.keyOf(prop)]));
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const [rawKey, value] of Object.entries(obj.entries)) {
    const lowered = rawKey.toLowerCase();
    if (!ENTRY_KEY.test(lowered)) throw replyError(`invalid entry key ${JSON.stringify(rawKey)}: it must match ${ENTRY_KEY.source}`);
    const key = keyByLowered.get(lowered);
    if (key === undefined) throw invalidArgument(`entries.${rawKey}: ${meta.clsId} has no state field stored as ${lowered}`);
    const twin = given.get(key);
    if (twin !== undefined) throw invalidArgument(`entries.${twin} and entries.${rawKey} are the same entry (${lowered})`);
    given.set(key, rawKey);
    if (value.type !== VAL_TYPE.byte) throw invalidArgument(`entries.${rawKey}: type ${value.type} is not VAL_TYPE_BYTE (0), the only type this runtime stores`);
    let text: string;
    try {
      text = bytesToText(value.data);
      decodeState(text);
    } catch (error) {
      throw invalidArgument(`entries.${rawKey}: the data is not a value this runtime stores (the JSON text of the field, UTF-8): ${(error as Error).message}`);
    }
    Object.defineProperty(out, key, { value: JSON.parse(text) as unknown, enumerable: true });
  }
  return out;
}

function hasTriggers(event: Readonly<Record<string, unknown>> | undefined): boolean {
  if (event === undefined) return false;
  return ['func_trigger', 'data_trigger'].some((name) => {
    const triggers = event[name];
    return typeof triggers === 'object' && triggers !== null && Object.keys(triggers).length > 0;
  });
}
