/**
 * The fixed hash space that cluster ownership is counted in: every object
 * falls in one of {@link SLOT_COUNT} slots, and processes own slots, not
 * objects. A slot table of fixed size is one row (or hash field) per slot,
 * whatever the number of objects, so a heartbeat or a takeover touches at
 * most 256 rows, and every process computes an object's slot alone.
 *
 * The hash is part of the stored format: processes of different releases
 * sharing one store must agree on it, so it never changes.
 */
import { describeValue as describe } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';
import { keyString, type ObjectKey } from '../identity.js';

/** How many slots the hash space has. Enough for a fair share among tens of processes, few enough for one small table. */
export const SLOT_COUNT = 256;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`: small, fast, and the same in every language. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash >>> 0;
}

/**
 * How much `memberId` wants `slot` (rendezvous hashing): the live member
 * with the highest score is the slot's preferred owner. FNV-1a alone is
 * mixed poorly in its last bytes, and member ids often differ only there
 * (a port, a pod ordinal), so its result goes through murmur3's finalizer.
 * Every member of one cluster must compute the same scores.
 */
export function rendezvousScore(memberId: string, slot: number): number {
  let h = fnv1a32(`${memberId}/${slot}`);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** The slot an object belongs to: the FNV-1a hash of its {@link keyString}, modulo {@link SLOT_COUNT}. */
export function slotOf(key: ObjectKey): number {
  return fnv1a32(keyString(key)) % SLOT_COUNT;
}

/** True for an integer from 0 to `SLOT_COUNT - 1`. */
export function isSlot(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < SLOT_COUNT;
}

/** Checks a list of slots: an array of distinct slot numbers. `argument` names the parameter in the error. */
export function checkSlots(slots: unknown, argument: string): asserts slots is readonly number[] {
  if (!Array.isArray(slots)) throw new InvalidArgumentError(argument, `must be an array of slots, got ${describe(slots)}`);
  const seen = new Set<number>();
  (slots as unknown[]).forEach((slot, i) => {
    if (!isSlot(slot)) throw new InvalidArgumentError(argument, `[${i}] must be an integer from 0 to ${SLOT_COUNT - 1}, got ${describe(slot)}`);
    if (seen.has(slot)) throw new InvalidArgumentError(argument, `[${i}] names slot ${slot} a second time`);
    seen.add(slot);
  });
}
