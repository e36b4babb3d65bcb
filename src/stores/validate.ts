/**
 * Argument checks every backend applies at its boundary. A store is a public
 * plug-in point, so it refuses malformed input with a coded error instead of
 * storing something other backends could not read back.
 */
import { checkMemberId } from '../cluster/membership.js';
import { isSlot, slotOf, SLOT_COUNT } from '../cluster/slots.js';
import { describeValue as describe } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';
import { DUE_LIMIT, LIST_LIMIT, MAX_PARTITION_ID, keyString, type ApplyOptions, type ObjectKey, type WriteOp } from './store.js';

function isPartitionId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_PARTITION_ID;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Strings with lone surrogates cannot be encoded as UTF-8, so they would not read back equal. */
function isText(value: unknown): value is string {
  return typeof value === 'string' && !LONE_SURROGATE.test(value);
}

/** Checks one object key; `argument` names the parameter, `path` the place inside it. */
export function checkKey(key: unknown, argument: string, path = argument): asserts key is ObjectKey {
  if (typeof key !== 'object' || key === null) throw new InvalidArgumentError(argument, `${path} must be an object key, got ${describe(key)}`);
  const { clsId, partitionId, objectId } = key as Record<string, unknown>;
  if (!isText(clsId) || clsId === '') throw new InvalidArgumentError(argument, `${path}.clsId must be a non-empty string, got ${describe(clsId)}`);
  if (!isPartitionId(partitionId)) {
    throw new InvalidArgumentError(argument, `${path}.partitionId must be an integer from 0 to ${MAX_PARTITION_ID}, got ${describe(partitionId)}`);
  }
  if (!isText(objectId) || objectId === '') throw new InvalidArgumentError(argument, `${path}.objectId must be a non-empty string, got ${describe(objectId)}`);
}

/** Checks the class and partition `list` reads. */
export function checkPartition(clsId: unknown, partitionId: unknown): void {
  if (!isText(clsId) || clsId === '') throw new InvalidArgumentError('clsId', `must be a non-empty string, got ${describe(clsId)}`);
  if (!isPartitionId(partitionId)) {
    throw new InvalidArgumentError('partitionId', `must be an integer from 0 to ${MAX_PARTITION_ID}, got ${describe(partitionId)}`);
  }
}

/** Checks a whole batch before any of it runs; a batch may name each object once, and a fence must cover every object it writes. */
export function checkBatch(ops: unknown, options: unknown): asserts ops is readonly WriteOp[] {
  if (!Array.isArray(ops)) throw new InvalidArgumentError('ops', `must be an array, got ${describe(ops)}`);
  if (options !== undefined) {
    const isolation = typeof options === 'object' && options !== null ? (options as Record<string, unknown>).isolation : options;
    if (isolation !== undefined && isolation !== 'read-committed' && isolation !== 'repeatable-read' && isolation !== 'serializable') {
      throw new InvalidArgumentError('options', `isolation must be read-committed, repeatable-read or serializable, got ${describe(isolation)}`);
    }
  }
  const fence = (options as ApplyOptions | undefined)?.fence;
  const fenced = fence === undefined ? undefined : checkFence(fence);
  const seen = new Set<string>();
  (ops as unknown[]).forEach((op, i) => {
    const path = `ops[${i}]`;
    if (typeof op !== 'object' || op === null) throw new InvalidArgumentError('ops', `${path} must be an object, got ${describe(op)}`);
    const { kind, key, expectedVersion, set, remove, wakeAt } = op as Record<string, unknown>;
    if (kind !== 'put' && kind !== 'delete') throw new InvalidArgumentError('ops', `${path}.kind must be 'put' or 'delete', got ${describe(kind)}`);
    checkKey(key, 'ops', `${path}.key`);
    if (expectedVersion !== undefined && (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || expectedVersion < 0)) {
      throw new InvalidArgumentError('ops', `${path}.expectedVersion must be a non-negative safe integer or undefined, got ${describe(expectedVersion)}`);
    }
    const id = keyString(key);
    if (seen.has(id)) throw new InvalidArgumentError('ops', `${path} names ${key.clsId}/${key.partitionId}/${key.objectId} a second time; a batch may name each object once`);
    seen.add(id);
    if (kind === 'put') {
      checkChanges(set, remove, path);
      checkWakeAt(wakeAt, path);
    }
    // A fence protects only the slots it names: an object outside them would be written unguarded.
    if (fenced !== undefined && !fenced.has(slotOf(key))) {
      throw new InvalidArgumentError('options.fence', `${path} writes ${key.clsId}/${key.partitionId}/${key.objectId}, which is in slot ${slotOf(key)}, not one the fence names`);
    }
  });
}

/** Checks a fence's shape; returns the slots it names. */
function checkFence(fence: unknown): Set<number> {
  if (typeof fence !== 'object' || fence === null) throw new InvalidArgumentError('options.fence', `must be an object { memberId, slots }, got ${describe(fence)}`);
  const { memberId, slots } = fence as Record<string, unknown>;
  checkMemberId(memberId, 'options.fence.memberId');
  if (!Array.isArray(slots) || slots.length === 0) throw new InvalidArgumentError('options.fence.slots', `must be a non-empty array of { slot, epoch }, got ${describe(slots)}`);
  const named = new Set<number>();
  (slots as unknown[]).forEach((entry, i) => {
    const at = `options.fence.slots[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new InvalidArgumentError(at, `must be an object { slot, epoch }, got ${describe(entry)}`);
    const { slot, epoch } = entry as Record<string, unknown>;
    if (!isSlot(slot)) throw new InvalidArgumentError(at, `slot must be an integer from 0 to ${SLOT_COUNT - 1}, got ${describe(slot)}`);
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1) throw new InvalidArgumentError(at, `epoch must be a positive integer, got ${describe(epoch)}`);
    if (named.has(slot)) throw new InvalidArgumentError(at, `names slot ${slot} a second time`);
    named.add(slot);
  });
  return named;
}

/** Stores that keep no slot table refuse a fence outright: a fence they ignored would protect nothing. */
export function refuseFence(options: ApplyOptions | undefined, store: string): void {
  if (options?.fence === undefined) return;
  throw new InvalidArgumentError('options.fence', `the ${store} store cannot check a fence: cluster mode needs a store shared by its processes (postgres or redis)`);
}

/** Stores that keep no wake times (they have no `due`) refuse one: a wake time dropped would never wake anything. Null asks for none: fine. */
export function refuseWakeTimes(ops: readonly WriteOp[], store: string): void {
  ops.forEach((op, i) => {
    if (op.kind === 'put' && op.wakeAt !== undefined && op.wakeAt !== null) {
      throw new InvalidArgumentError('ops', `ops[${i}].wakeAt: the ${store} store keeps no wake times (it has no due()), so it cannot wake an object at ${op.wakeAt}`);
    }
  });
}

function checkChanges(set: unknown, remove: unknown, path: string): void {
  if (set !== undefined && !(set instanceof Map)) throw new InvalidArgumentError('ops', `${path}.set must be a Map, got ${describe(set)}`);
  for (const [entryKey, value] of (set as Map<unknown, unknown> | undefined) ?? []) {
    if (!isText(entryKey)) throw new InvalidArgumentError('ops', `${path}.set has a key that is not a well-formed string: ${describe(entryKey)}`);
    if (!(value instanceof Uint8Array)) throw new InvalidArgumentError('ops', `${path}.set.get(${JSON.stringify(entryKey)}) must be a Uint8Array, got ${describe(value)}`);
  }
  if (remove !== undefined && !Array.isArray(remove)) throw new InvalidArgumentError('ops', `${path}.remove must be an array, got ${describe(remove)}`);
  for (const entryKey of (remove as unknown[] | undefined) ?? []) {
    if (!isText(entryKey)) throw new InvalidArgumentError('ops', `${path}.remove has an entry key that is not a well-formed string: ${describe(entryKey)}`);
    // Setting and removing one entry in one op has no obvious meaning; refuse it rather than pick an order.
    if ((set as Map<unknown, unknown> | undefined)?.has(entryKey) === true) {
      throw new InvalidArgumentError('ops', `${path} both sets and removes entry ${JSON.stringify(entryKey)}`);
    }
  }
}

/** A wake time is ms since the epoch as a safe integer: every backend stores it exactly (a bigint column, a Redis score). */
function checkWakeAt(wakeAt: unknown, path: string): void {
  if (wakeAt === undefined || wakeAt === null) return;
  if (typeof wakeAt !== 'number' || !Number.isSafeInteger(wakeAt) || wakeAt < 0) {
    throw new InvalidArgumentError('ops', `${path}.wakeAt must be a non-negative safe integer (ms since the epoch), null or undefined, got ${describe(wakeAt)}`);
  }
}

/**
 * Checks the arguments of `due`. Wake times are integers, so `until` is
 * returned rounded down and brought within the range they can take (-1 when
 * nothing can be due): a bound every backend can send as an integer.
 */
export function checkDueArgs(until: unknown, options: unknown): { until: number; limit: number } {
  if (typeof until !== 'number' || !Number.isFinite(until)) throw new InvalidArgumentError('until', `must be a finite number (ms since the epoch), got ${describe(until)}`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
  const { limit = DUE_LIMIT.default } = (options ?? {}) as Record<string, unknown>;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > DUE_LIMIT.max) {
    throw new InvalidArgumentError('limit', `must be an integer from 1 to ${DUE_LIMIT.max}, got ${describe(limit)}`);
  }
  return { until: Math.max(-1, Math.min(Math.floor(until), Number.MAX_SAFE_INTEGER)), limit };
}

/** Checks `list` options; `after` is the object id the cursor points past. */
export function checkListOptions(options: unknown): { prefix: string; limit: number; after: string | undefined } {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
  const { prefix = '', limit = LIST_LIMIT.default, cursor } = options as Record<string, unknown>;
  if (!isText(prefix)) throw new InvalidArgumentError('prefix', `must be a well-formed string, got ${describe(prefix)}`);
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
    throw new InvalidArgumentError('limit', `must be an integer from 1 to ${LIST_LIMIT.max}, got ${describe(limit)}`);
  }
  return { prefix, limit, after: cursor === undefined ? undefined : decodeCursor(cursor) };
}

/** A cursor is the last listed object id, base64url-encoded: opaque to callers, stable across restarts. */
export function encodeCursor(objectId: string): string {
  return Buffer.from(objectId, 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): string {
  const malformed = (cause?: unknown): InvalidArgumentError =>
    new InvalidArgumentError('cursor', `${describe(cursor)} is not a cursor this store returned`, cause === undefined ? undefined : { cause });
  if (typeof cursor !== 'string' || !CURSOR_PATTERN.test(cursor)) throw malformed();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length === 0 || bytes.toString('base64url') !== cursor) throw malformed();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw malformed(error);
  }
}

/**
 * The smallest string above every string that starts with `prefix`, in code
 * point (UTF-8 byte, "C" collation) order: the prefix with its last code point
 * raised by one. `undefined` when no such bound exists.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  for (let last = points.pop(); last !== undefined; last = points.pop()) {
    if (last < 0x10ffff) {
      // Surrogate code points cannot be encoded, so U+D7FF is followed by U+E000.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}
