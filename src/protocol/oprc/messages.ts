/**
 * One place that encodes and decodes the Oparaca messages: the schema of
 * `schema.ts` parsed once with protobufjs (field names as written, snake_case,
 * as the platform's JSON uses them). The HTTP dialect, the gRPC runtime and
 * the ODGM store all go through these types.
 */
import protobuf from 'protobufjs';
import { OPRC_DATA_PROTO, OPRC_INVOKE_PROTO } from './schema.js';

/** `ValType`: how ODGM reads an entry's bytes. */
export const VAL_TYPE = { byte: 0, crdtMap: 1 } as const;

/** `ValData` as decoded: the entry's bytes and their type. */
export interface ValData {
  readonly data: Uint8Array;
  readonly type: number;
}

/** `ObjMeta`. */
export interface ObjMeta {
  readonly cls_id: string;
  readonly partition_id: number;
  readonly object_id?: string | undefined;
}

/** `ObjData` without its event section (kept by the platform, not read here). */
export interface ObjData {
  readonly metadata?: ObjMeta | undefined;
  readonly entries: Readonly<Record<string, ValData>>;
}

let parsed: protobuf.Root | undefined;

/** The parsed `oprc` package, with both schema texts. */
export function oprcRoot(): protobuf.Root {
  if (parsed === undefined) {
    const root = new protobuf.Root();
    protobuf.parse(OPRC_INVOKE_PROTO, root, { keepCase: true });
    protobuf.parse(OPRC_DATA_PROTO, root, { keepCase: true });
    parsed = root;
  }
  return parsed;
}

/** A message type of the `oprc` package, e.g. `oprcType('ObjData')`. */
export function oprcType(name: string): protobuf.Type {
  return oprcRoot().lookupType(`oprc.${name}`);
}
