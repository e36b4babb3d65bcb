/**
 * `ObjData` in its two wire forms: protobuf bytes (what the platform sends by
 * default) and the JSON the Oparaca gateway reads and writes, which is serde's
 * form of the message: snake_case names, `bytes` as standard base64, enums as
 * numbers, absent optional fields as `null`. Pure functions over the one
 * schema of `messages.ts`; malformed input is an `InvalidArgumentError`.
 */
import { InvalidArgumentError } from '../../errors.js';
import { oprcType, type ObjData, type ObjMeta, type ValData } from './messages.js';

/** `ObjData` as decoded, with its `event` section (triggers, as decoded) when the message carries one. */
export interface DecodedObjData extends ObjData {
  readonly event?: Readonly<Record<string, unknown>> | undefined;
}

/** `ValData` in JSON. */
export interface ValDataJson {
  readonly data: string;
  readonly type: number;
}

/** `ObjData` in JSON, as the Oparaca gateway answers `GET` with `Accept: application/json`. */
export interface ObjDataJson {
  readonly metadata: { readonly cls_id: string; readonly partition_id: number; readonly object_id: string | null } | null;
  readonly event: Readonly<Record<string, unknown>> | null;
  readonly entries: Readonly<Record<string, ValDataJson>>;
}

const MAX_U32 = 0xffff_ffff;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The protobuf bytes of an `ObjData`, canonical proto3 (fields at their default value are left out, as prost does). */
export function encodeObjData(obj: DecodedObjData): Uint8Array {
  const type = oprcType('ObjData');
  const entries: Record<string, Partial<ValData>> = {};
  for (const [key, value] of Object.entries(obj.entries)) {
    Object.defineProperty(entries, key, { value: { ...(value.data.length > 0 ? { data: value.data } : {}), ...(value.type !== 0 ? { type: value.type } : {}) }, enumerable: true });
  }
  const message: Record<string, unknown> = { entries };
  const meta = obj.metadata;
  if (meta !== undefined) {
    message.metadata = { ...(meta.cls_id !== '' ? { cls_id: meta.cls_id } : {}), ...(meta.partition_id !== 0 ? { partition_id: meta.partition_id } : {}), ...(meta.object_id === undefined ? {} : { object_id: meta.object_id }) };
  }
  if (obj.event !== undefined) message.event = obj.event;
  return type.encode(type.fromObject(message)).finish();
}

/** Reads `ObjData` protobuf bytes; throws `InvalidArgumentError` when they are not a valid message. */
export function decodeObjData(bytes: Uint8Array): DecodedObjData {
  const type = oprcType('ObjData');
  let plain: Record<string, unknown>;
  try {
    plain = type.toObject(type.decode(bytes), { enums: Number, longs: Number });
  } catch (error) {
    throw new InvalidArgumentError('ObjData', `failed to decode Protobuf message: ${(error as Error).message}`, { cause: error });
  }
  const entries: Record<string, ValData> = {};
  for (const [key, raw] of Object.entries((plain.entries ?? {}) as Record<string, { data?: Uint8Array; type?: number }>)) {
    defineEntry(entries, key, { data: new Uint8Array(raw.data ?? []), type: raw.type ?? 0 });
  }
  const meta = plain.metadata as { cls_id?: string; partition_id?: number; object_id?: string } | undefined;
  const metadata: ObjMeta | undefined =
    meta === undefined ? undefined : { cls_id: meta.cls_id ?? '', partition_id: meta.partition_id ?? 0, ...(meta.object_id === undefined ? {} : { object_id: meta.object_id }) };
  const event = plain.event as Record<string, unknown> | undefined;
  return { ...(metadata === undefined ? {} : { metadata }), ...(event === undefined ? {} : { event }), entries };
}

/** The JSON form of an `ObjData`. */
export function objDataToJson(obj: DecodedObjData): ObjDataJson {
  const entries: Record<string, ValDataJson> = {};
  for (const [key, value] of Object.entries(obj.entries)) {
    Object.defineProperty(entries, key, { value: { data: Buffer.from(value.data).toString('base64'), type: value.type }, enumerable: true });
  }
  const meta = obj.metadata;
  return {
    metadata: meta === undefined ? null : { cls_id: meta.cls_id, partition_id: meta.partition_id, object_id: meta.object_id ?? null },
    event: obj.event ?? null,
    entries,
  };
}

/**
 * Reads the JSON form of an `ObjData` (already parsed). As strict as the
 * platform's reader: `entries` is required, and each entry needs `data`
 * (standard base64) and `type`; `metadata` and `event` may be absent or null;
 * other names are ignored.
 */
export function objDataFromJson(json: unknown): DecodedObjData {
  const body = struct(json, 'ObjData');
  if (!Object.hasOwn(body, 'entries')) throw malformed('missing field `entries`');
  const entries: Record<string, ValData> = {};
  for (const [key, raw] of Object.entries(struct(body.entries, 'a map'))) {
    const value = struct(raw, 'struct ValData');
    if (!Object.hasOwn(value, 'data')) throw malformed(`entries.${key}: missing field \`data\``);
    if (!Object.hasOwn(value, 'type')) throw malformed(`entries.${key}: missing field \`type\``);
    const { data, type } = value;
    if (typeof data !== 'string' || !STANDARD_BASE64.test(data)) throw malformed(`entries.${key}.data: expected standard base64 text`);
    if (typeof type !== 'number' || !Number.isInteger(type) || type < -0x8000_0000 || type > 0x7fff_ffff) {
      throw malformed(`entries.${key}.type: expected an i32`);
    }
    defineEntry(entries, key, { data: new Uint8Array(Buffer.from(data, 'base64')), type });
  }
  const metadata = body.metadata === undefined || body.metadata === null ? undefined : metaFromJson(body.metadata);
  const event = body.event === undefined || body.event === null ? undefined : struct(body.event, 'struct ObjectEvent');
  return { ...(metadata === undefined ? {} : { metadata }), ...(event === undefined ? {} : { event }), entries };
}

function metaFromJson(json: unknown): ObjMeta {
  const meta = struct(json, 'struct ObjMeta');
  const { cls_id, partition_id, object_id } = meta;
  if (typeof cls_id !== 'string') throw malformed('metadata.cls_id: expected a string');
  if (typeof partition_id !== 'number' || !Number.isInteger(partition_id) || partition_id < 0 || partition_id > MAX_U32) {
    throw malformed('metadata.partition_id: expected a u32');
  }
  if (object_id !== undefined && object_id !== null && typeof object_id !== 'string') throw malformed('metadata.object_id: expected a string or null');
  return { cls_id, partition_id, ...(typeof object_id === 'string' ? { object_id } : {}) };
}

function struct(value: unknown, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`invalid type: ${kindOf(value)}, expected ${expected}`);
  return value as Record<string, unknown>;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'sequence';
  return typeof value === 'object' ? 'map' : typeof value;
}

/** `defineProperty`: an entry key such as `__proto__` stays an own entry. */
function defineEntry(entries: Record<string, ValData>, key: string, value: ValData): void {
  Object.defineProperty(entries, key, { value, enumerable: true });
}

function malformed(message: string): InvalidArgumentError {
  return new InvalidArgumentError('ObjData', message);
}
