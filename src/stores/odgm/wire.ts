/**
 * The `oprc.DataService` messages the ODGM store sends and reads, as
 * `@grpc/proto-loader` hands them over with the options in `client.ts`:
 * snake_case names, 64-bit integers as decimal strings, absent fields left
 * out (so an unset `optional` field is `undefined`, not its default).
 */
import { StoreError } from '../../errors.js';

/** A 64-bit count from the wire (a decimal string), refused when it is not a safe integer. */
export function wireCount(value: string | number | undefined, what: string): number {
  const n = Number(value ?? 0);
  if (!Number.isSafeInteger(n) || n < 0) throw new StoreError(`odgm: unexpected ${what} ${String(value)} in a DataService reply`, { transient: false });
  return n;
}

/** `ValData`: an entry's bytes (`type` 0, `VAL_TYPE_BYTE`, for every entry this SDK writes). */
export interface WireValData {
  readonly data?: Uint8Array | undefined;
  readonly type?: number | undefined;
}

/** `SingleObjectRequest` (`Get`, `Delete`). */
export interface ObjectRequest {
  readonly cls_id: string;
  readonly partition_id: number;
  readonly object_id: string;
}

/** `SingleKeyRequest` (`GetValue`). */
export interface KeyRequest extends ObjectRequest {
  readonly key: string;
}

/** `ObjectResponse`. */
export interface ObjectResponse {
  readonly obj?: { readonly entries?: Readonly<Record<string, WireValData>> | undefined } | undefined;
}

/** `ValueResponse`: the entry, and the object's version when ODGM has metadata for it. */
export interface ValueResponse {
  readonly value?: WireValData | undefined;
  readonly object_version?: string | undefined;
  readonly key?: string | undefined;
}

/** `SetObjectRequest` (`Set`). */
export interface SetObjectRequest extends ObjectRequest {
  readonly object: { readonly entries: Readonly<Record<string, WireValData>> };
}

/** `BatchSetValuesRequest`. */
export interface BatchSetValuesRequest extends ObjectRequest {
  readonly values: Readonly<Record<string, WireValData>>;
  readonly delete_keys: readonly string[];
  readonly expected_object_version?: number | undefined;
}

/** `ListObjectsRequest`. */
export interface ListObjectsRequest {
  readonly cls_id: string;
  readonly partition_id: number;
  readonly object_id_prefix?: string | undefined;
  readonly limit: number;
  readonly cursor?: Uint8Array | undefined;
}

/** `ObjectMetaEnvelope`: one listed object; the last of a full page carries `next_cursor`. */
export interface ObjectMetaEnvelope {
  readonly object_id?: string | undefined;
  readonly version?: string | undefined;
  readonly entry_count?: string | undefined;
  readonly next_cursor?: Uint8Array | undefined;
}

/** `CapabilitiesResponse`. */
export interface CapabilitiesResponse {
  readonly string_ids?: boolean | undefined;
  readonly string_entry_keys?: boolean | undefined;
}

/** `EmptyResponse`. */
export type EmptyResponse = Readonly<Record<string, never>>;

/** The unary calls of `DataService` the store makes, with their request and response. */
export interface UnaryCalls {
  Get: [ObjectRequest, ObjectResponse];
  Delete: [ObjectRequest, EmptyResponse];
  Set: [SetObjectRequest, EmptyResponse];
  GetValue: [KeyRequest, ValueResponse];
  BatchSetValues: [BatchSetValuesRequest, EmptyResponse];
  Capabilities: [Readonly<Record<string, never>>, CapabilitiesResponse];
}
