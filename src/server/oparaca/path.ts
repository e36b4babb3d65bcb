/**
 * Path and query parameters as the Oparaca gateway reads them: object ids
 * lowered then checked (`identity.rs`), partitions as unsigned integers of
 * the route's width (u16 on invoke and list, u32 on get, put and delete).
 */
import { MAX_PARTITION_ID } from '../../identity.js';
import { LIST_LIMIT } from '../../stores/store.js';
import { invalidObjectId, OparacaReply, unknownError } from './errors.js';

const ID_CHARS = /^[a-z0-9._:-]+$/;
const MAX_ID_LENGTH = 160;
const WIDTH = { u16: 0xffff, u32: 0xffff_ffff } as const;

/** An object id from the path, lowered; refused with `INVALID_OBJECT_ID` as the platform refuses it. */
export function objectIdParam(raw: string): string {
  const id = raw.toLowerCase();
  if (id === '') throw invalidObjectId('empty object id');
  if (id.length > MAX_ID_LENGTH) throw invalidObjectId('object id too long');
  if (!ID_CHARS.test(id)) throw invalidObjectId('invalid characters in object id');
  return id;
}

/** A partition from the path; one that does not parse as the route's integer is a plain-text 400, as the platform's router gives. */
export function partitionParam(raw: string, width: keyof typeof WIDTH): number {
  const value = /^\+?[0-9]+$/.test(raw) ? Number(raw.replace(/^\+/, '')) : NaN;
  if (!Number.isSafeInteger(value) || value > WIDTH[width]) {
    throw new OparacaReply(400, undefined, `Invalid URL: Cannot parse \`pid\` with value \`${raw}\` to a \`${width}\``);
  }
  // The platform takes any u32 here; the SDK's stores index partitions as 32-bit signed integers.
  if (value > MAX_PARTITION_ID) throw new OparacaReply(400, undefined, `Invalid URL: partition ${value} is above ${MAX_PARTITION_ID}, the largest this runtime stores`);
  return value;
}

/** The list query: `limit` defaults to 100 and is clamped to 1000 (0 is kept: an empty page); `cursor` must be base64url without padding. */
export function listQuery(query: { prefix?: string | undefined; limit?: string | undefined; cursor?: string | undefined }): {
  prefix: string | undefined;
  limit: number;
  cursor: string | undefined;
} {
  let limit: number = LIST_LIMIT.default;
  if (query.limit !== undefined) {
    const value = /^\+?[0-9]+$/.test(query.limit) ? Number(query.limit.replace(/^\+/, '')) : NaN;
    if (!Number.isSafeInteger(value) || value > WIDTH.u32) {
      throw new OparacaReply(400, undefined, `Failed to deserialize query string: limit: ${JSON.stringify(query.limit)} is not a u32`);
    }
    limit = Math.min(value, LIST_LIMIT.max);
  }
  const cursor = query.cursor;
  if (cursor !== undefined && (!/^[A-Za-z0-9_-]*$/.test(cursor) || cursor.length % 4 === 1)) {
    throw unknownError(`invalid cursor encoding: ${JSON.stringify(cursor)} is not base64url without padding`);
  }
  return { prefix: query.prefix, limit, cursor: cursor === '' ? undefined : cursor };
}
