/**
 * ODGM's rules for the names it keeps (`data-plane/oprc-odgm/src/identity.rs`
 * upstream): object ids and entry keys are ASCII-lowercased, then must match
 * `^[a-z0-9._:-]+$` and be at most 160 bytes long; partitions are 16-bit.
 *
 * The store refuses a name ODGM would change instead of letting ODGM change
 * it: `historyLog` written would read back as `historylog`, and two objects
 * `A` and `a` would silently be one. Classes get lower-case field keys when
 * this store is configured (see {@link ODGM_ENTRY_KEYS}).
 */
import { describeValue as describe } from '../../describe.js';
import { InvalidArgumentError } from '../../errors.js';
import type { EntryKeyRule } from '../../object/state-fields.js';
import type { ObjectKey, WriteOp } from '../store.js';

/** What ODGM accepts once it has lowercased a name. */
const NAME_PATTERN = /^[a-z0-9._:-]+$/;

/** ODGM's default `ODGM_MAX_STRING_ID_LEN`, in bytes (the names are ASCII). */
export const MAX_NAME_LENGTH = 160;

/** ODGM reads `partition_id` as a u16: a larger id would reach another partition's shard. */
export const MAX_ODGM_PARTITION = 65_535;

/** ODGM's normalisation: ASCII letters only, as Rust's `to_ascii_lowercase`. */
export function asciiLowercase(name: string): string {
  return name.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}

/** Why ODGM cannot keep `name` as it is, or `undefined` when it can. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  const lower = asciiLowercase(name);
  if (!NAME_PATTERN.test(lower)) return `ODGM accepts only ${NAME_PATTERN.source} (after lowercasing)`;
  if (lower !== name) return `ODGM lowercases it to ${JSON.stringify(lower)}`;
  return undefined;
}

/**
 * How field keys become entry keys when this store is configured: lowercased
 * as ODGM would, and refused when ODGM cannot keep them even then (a `$` or
 * a non-ASCII letter in a property name).
 */
export const ODGM_ENTRY_KEYS: EntryKeyRule = {
  owner: 'the odgm store',
  normalize: asciiLowercase,
  problem: nameProblem,
};

/** Checks that ODGM keeps a key's partition and object id as they are. */
export function checkOdgmKey(key: ObjectKey, argument: string, path = argument): void {
  if (key.partitionId > MAX_ODGM_PARTITION) {
    throw new InvalidArgumentError(argument, `${path}.partitionId must be at most ${MAX_ODGM_PARTITION} on ODGM, whose partitions are 16-bit; got ${key.partitionId}`);
  }
  const problem = nameProblem(key.objectId);
  if (problem !== undefined) throw new InvalidArgumentError(argument, `${path}.objectId ${describe(key.objectId)} cannot be kept by ODGM: ${problem}`);
}

/** Checks every name a batch writes (after `checkBatch` checked its shape). */
export function checkOdgmBatch(ops: readonly WriteOp[]): void {
  ops.forEach((op, i) => {
    const path = `ops[${i}]`;
    checkOdgmKey(op.key, 'ops', `${path}.key`);
    if (op.kind !== 'put') return;
    for (const entryKey of [...(op.set?.keys() ?? []), ...(op.remove ?? [])]) {
      const problem = nameProblem(entryKey);
      if (problem !== undefined) throw new InvalidArgumentError('ops', `${path} names entry key ${describe(entryKey)}, which ODGM cannot keep: ${problem}`);
    }
  });
}
