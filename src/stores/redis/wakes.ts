/**
 * Wake times on Redis: one sorted set per store, `<prefix>:wake`, with the
 * wake time as score and the object as member, written by the apply script
 * in the same run as the object (see `scripts.ts`), and read by `due` with
 * one small script.
 *
 * Redis orders members of equal score by their bytes, so the member is the
 * key in a form whose byte order is the order `due` promises (class, then
 * partition as a number, then object id), followed by the object's hash key
 * for the script to read its version:
 *
 *   esc(clsId) 00 01 partition-as-10-digits esc(objectId) 00 01 hash-key
 *
 * `esc` is the UTF-8 bytes with 0x00 written 00 FF, so 00 01 ends a name
 * (and sorts before every byte that can follow in a longer name) and never
 * occurs inside one; 0xFF is never part of UTF-8. The partition's ten digits
 * (2147483647 at most) compare as numbers do.
 */
import { unexpectedReply } from './errors.js';
import type { DueObject, ObjectKey } from '../store.js';

const END = Buffer.from([0x00, 0x01]);
const ZERO = Buffer.from([0x00]);
const ESCAPED_ZERO = Buffer.from([0x00, 0xff]);
const PARTITION_DIGITS = 10;

function escape(name: string): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (!bytes.includes(0)) return bytes;
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(0); at !== -1; at = bytes.indexOf(0, from)) {
    parts.push(bytes.subarray(from, at), ESCAPED_ZERO);
    from = at + 1;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

function unescape(bytes: Buffer): string {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(ESCAPED_ZERO); at !== -1; at = bytes.indexOf(ESCAPED_ZERO, from)) {
    parts.push(bytes.subarray(from, at), ZERO);
    from = at + 2;
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts).toString('utf8');
}

/** The member of `<prefix>:wake` for an object whose hash is `hashKey`. */
export function wakeMember(key: ObjectKey, hashKey: string): Buffer {
  const partition = String(key.partitionId).padStart(PARTITION_DIGITS, '0');
  return Buffer.concat([escape(key.clsId), END, Buffer.from(partition, 'latin1'), escape(key.objectId), END, Buffer.from(hashKey, 'utf8')]);
}

/** The key a {@link wakeMember} names. */
export function keyOfMember(member: Buffer): ObjectKey {
  const clsEnd = member.indexOf(END);
  const idStart = clsEnd + END.length + PARTITION_DIGITS;
  const idEnd = clsEnd === -1 ? -1 : member.indexOf(END, idStart);
  const partition = Number(member.subarray(clsEnd + END.length, idStart).toString('latin1'));
  if (idEnd === -1 || !Number.isSafeInteger(partition)) throw unexpectedReply('wake set member: not one the store wrote');
  return { clsId: unescape(member.subarray(0, clsEnd)), partitionId: partition, objectId: unescape(member.subarray(idStart, idEnd)) };
}

/**
 * KEYS[1] the wake set; ARGV the last wake time due and the limit. Replies
 * member, score, version for each due object, earliest first; the version is
 * read in the same run, so it is the version of the object at that wake time.
 * The hash keys are not in KEYS (they are only known from the members): fine
 * on a single server, which the wake set needs anyway (it has no hash tag).
 */
export const DUE_LUA = `
local VERSION = '\\255'
local found = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[2], 'WITHSCORES')
local reply = {}
for i = 1, #found, 2 do
  local member = found[i]
  local cls_end = string.find(member, '\\0\\1', 1, true)
  local id_end = string.find(member, '\\0\\1', cls_end + 2 + ${PARTITION_DIGITS}, true)
  reply[#reply + 1] = member
  reply[#reply + 1] = found[i + 1]
  reply[#reply + 1] = redis.call('HGET', string.sub(member, id_end + 2), VERSION) or ''
end
return reply
`;

/** Reads {@link DUE_LUA}'s reply (as buffers). An object without a version (not written by this store) is left out. */
export function parseDueReply(reply: unknown): DueObject[] {
  if (!Array.isArray(reply) || reply.length % 3 !== 0 || !reply.every((item) => Buffer.isBuffer(item))) throw unexpectedReply('due script reply');
  const due: DueObject[] = [];
  for (let i = 0; i < reply.length; i += 3) {
    const [member, score, version] = [reply[i], reply[i + 1], reply[i + 2]] as Buffer[];
    if (version!.length === 0) continue;
    due.push({ key: keyOfMember(member!), wakeAt: Number(score!.toString('latin1')), version: Number(version!.toString('latin1')) });
  }
  return due;
}
