/**
 * Object identity, on the ground floor so every layer shares one set of
 * rules: the key (class, partition, id), how ids and partitions are checked
 * and normalised, how keys are formatted and compared.
 */
import { randomBytes } from 'node:crypto';
import { describeType, describeValue } from './describe.js';
import { InvalidArgumentError, InvalidIdError, formatIdentity, type ObjectIdentity } from './errors.js';

export { formatIdentity, type ObjectIdentity };

/** The identity of one stored object. */
export interface ObjectKey {
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;
}

/** Partition ids are 32-bit: every backend can index them as a plain integer column. */
export const MAX_PARTITION_ID = 2_147_483_647;

/** A string that identifies a key uniquely, for maps and sets. */
export function keyString(key: ObjectKey): string {
  return `${key.clsId}\u0000${String(key.partitionId)}\u0000${key.objectId}`;
}

/** The shape every object id has (and neither `.` nor `..`, which URL paths resolve away). */
export const OBJECT_ID_PATTERN = /^[a-z0-9._:-]{1,160}$/;

/**
 * Turns a caller's id into the canonical string: strings must match
 * {@link OBJECT_ID_PATTERN}; safe non-negative integers become their decimal string.
 */
export function normalizeObjectId(id: unknown): string {
  if (typeof id === 'number') {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new InvalidIdError(id, `object id ${String(id)} is not a non-negative safe integer`);
    }
    return String(id);
  }
  if (typeof id !== 'string') {
    throw new InvalidIdError(id, `object id must be a string or a number, got ${describeType(id)}`);
  }
  if (!OBJECT_ID_PATTERN.test(id) || id === '.' || id === '..') {
    throw new InvalidIdError(id, `object id ${JSON.stringify(id)} must match ${OBJECT_ID_PATTERN.source}`);
  }
  return id;
}

/** Validates a partition id: a non-negative safe integer. */
export function normalizePartitionId(partitionId: unknown, argument = 'partitionId'): number {
  if (typeof partitionId !== 'number' || !Number.isSafeInteger(partitionId) || partitionId < 0 || partitionId > MAX_PARTITION_ID) {
    throw new InvalidArgumentError(argument, `must be an integer from 0 to ${MAX_PARTITION_ID}, got ${describeValue(partitionId)}`);
  }
  return partitionId;
}

let lastTime = 0;
let sequence = 0;

/**
 * A new unique id that sorts by creation time: 12 base-36 digits of
 * milliseconds, a per-millisecond sequence, and random bits so that ids made
 * by different processes in the same millisecond do not collide.
 */
export function generateObjectId(): string {
  const now = Date.now();
  if (now === lastTime) {
    sequence += 1;
  } else {
    lastTime = now;
    sequence = 0;
  }
  const time = now.toString(36).padStart(10, '0');
  const seq = sequence.toString(36).padStart(4, '0');
  return `${time}${seq}${randomBytes(6).toString('hex')}`;
}

