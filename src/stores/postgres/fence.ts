/**
 * How a fenced batch begins in PostgreSQL: with timeouts bounding how long
 * it can hold locks, then a check of its fence that share-locks the slot rows
 * until the batch ends.
 */
import type { PoolClient } from 'pg';
import { FencedError } from '../../errors.js';
import type { CommitFence, Isolation } from '../store.js';
import { CLUSTER_SQL } from './cluster-schema.js';
import { isSerializationFailure } from './errors.js';
import { BEGIN } from './schema.js';

/**
 * BEGIN and the transaction's timeouts in one round trip (a simple query may
 * hold several statements). `SET LOCAL` ends with the transaction, so pooled
 * connections keep their settings, and it works on a pool the application
 * gave. A process paused in the middle of the batch is cut off by the server
 * `timeoutMs` after its last statement (idle in transaction), one stuck in a
 * statement or a lock wait at most `timeoutMs` into it: the slot rows it locked are
 * then free for a takeover.
 */
export function fencedBegin(isolation: Isolation, timeoutMs: number, statementTimeoutMs: number): string {
  const ms = Math.max(1, Math.floor(timeoutMs));
  // The store's own statement timeout still applies when it is the shorter one (0 turns it off).
  const statement = statementTimeoutMs > 0 ? Math.min(ms, statementTimeoutMs) : ms;
  return `${BEGIN[isolation]}; SET LOCAL lock_timeout = ${ms}; SET LOCAL idle_in_transaction_session_timeout = ${ms}; SET LOCAL statement_timeout = ${statement}`;
}

/**
 * Checks the fence as the batch's first statement: throws `FencedError` naming
 * every slot not owned by the member at its epoch under a live lease. Under
 * repeatable read or serializable, a slot row changed since the snapshot
 * (taken over or released) fails the lock with a serialization error: that
 * too means the fence no longer holds.
 */
export async function checkFence(client: PoolClient, fence: CommitFence): Promise<void> {
  const slots = fence.slots.map((s) => s.slot);
  let held: Set<number>;
  try {
    const { rows } = await client.query<{ slot: number }>(CLUSTER_SQL.fence, [fence.memberId, slots, fence.slots.map((s) => s.epoch)]);
    held = new Set(rows.map((row) => row.slot));
  } catch (error) {
    if (!isSerializationFailure(error)) throw error;
    throw new FencedError(fence.memberId, fence.slots, { cause: error });
  }
  const lost = fence.slots.filter((s) => !held.has(s.slot));
  if (lost.length > 0) throw new FencedError(fence.memberId, lost);
}
