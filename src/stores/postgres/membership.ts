/**
 * Cluster membership in PostgreSQL: the `oaas_members` and `oaas_slots`
 * tables beside the objects (see `cluster-schema.ts` for the statements).
 */
import type { Pool } from 'pg';
import { checkIncarnation, checkLeaseMs, checkMember, checkMemberId, type Member, type MemberAddress, type Membership, type SlotLease, type SlotOwner } from '../../cluster/membership.js';
import { checkSlots } from '../../cluster/slots.js';
import { describeValue as describe } from '../../describe.js';
import { InvalidArgumentError, StoreError } from '../../errors.js';
import { createPool } from './pool.js';
import { CLUSTER_SQL, ensureClusterSchema, type LeaseRow, type MemberRow, type OwnerRow } from './cluster-schema.js';
import { translateError } from './errors.js';
import type { PostgresPool } from './postgres-store.js';

/** Options of {@link PostgresMembership}. */
export interface PostgresMembershipOptions {
  /** Connection string of the store's database. Unused when `pool` is given. */
  readonly url: string;
  /**
   * Connections of its own pool. Its own, not the store's: a heartbeat must
   * not wait for a connection behind a burst of commits, or the lease lapses.
   * @default 2
   */
  readonly poolSize?: number | undefined;
  /** How long connecting, or waiting for a free connection, may take. @default 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /** The server cancels a membership statement that runs longer (a transient `StoreError`). @default 5000 */
  readonly statementTimeoutMs?: number | undefined;
  /** A pool to use instead; the caller owns it (`close()` leaves it open). */
  readonly pool?: PostgresPool | undefined;
}

/**
 * A {@link Membership} in the store's PostgreSQL database. Every operation
 * is one statement, timed by the server's clock; calls made before `open()`
 * open it on first use.
 *
 * @example
 * const membership = new PostgresMembership({ url: process.env.DATABASE_URL! });
 * const incarnation = await membership.join({ id: 'web-1', url: 'http://10.0.0.5:8080' }, 10_000);
 */
export class PostgresMembership implements Membership {
  readonly name = 'postgres';
  private readonly settings: { url: string; poolSize: number; connectTimeoutMs: number; statementTimeoutMs: number };
  private readonly injected: Pool | undefined;
  private opening: Promise<Pool> | undefined;
  private closing: Promise<void> | undefined;
  private readonly onIdleError = (): void => undefined; // a broken idle connection is dropped; the next call reports it

  constructor(options: PostgresMembershipOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) throw new InvalidArgumentError('options', `must be an object, got ${describe(options)}`);
    const { url, poolSize = 2, connectTimeoutMs = 5000, statementTimeoutMs = 5000, pool } = options as Record<keyof PostgresMembershipOptions, unknown>;
    if (pool !== undefined && (typeof pool !== 'object' || pool === null || typeof (pool as Pool).connect !== 'function')) {
      throw new InvalidArgumentError('options.pool', `must be a pg Pool, got ${describe(pool)}`);
    }
    if (pool === undefined && (typeof url !== 'string' || url === '')) throw new InvalidArgumentError('options.url', `must be a non-empty connection string, got ${typeof url}`);
    const integer = (name: string, value: unknown): number => {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`options.${name}`, `must be a positive integer, got ${describe(value)}`);
      return value;
    };
    this.settings = {
      url: typeof url === 'string' ? url : '',
      poolSize: integer('poolSize', poolSize),
      connectTimeoutMs: integer('connectTimeoutMs', connectTimeoutMs),
      statementTimeoutMs: integer('statementTimeoutMs', statementTimeoutMs),
    };
    this.injected = pool as Pool | undefined;
  }

  open(): Promise<void> {
    return this.run('open', async () => {
      await this.ready();
    });
  }

  join(member: MemberAddress, leaseMs: number): Promise<number> {
    return this.run('join', async () => {
      checkMember(member);
      checkLeaseMs(leaseMs);
      const { rows } = await (await this.ready()).query<{ incarnation: string | number }>(CLUSTER_SQL.join, [member.id, member.url, leaseMs]);
      return Number(only(rows, 'join').incarnation);
    });
  }

  heartbeat(memberId: string, incarnation: number, leaseMs: number): Promise<readonly SlotLease[] | undefined> {
    return this.run('heartbeat', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkLeaseMs(leaseMs);
      const { rows } = await (await this.ready()).query<LeaseRow>(CLUSTER_SQL.heartbeat, [memberId, incarnation, leaseMs]);
      return leases(rows);
    });
  }

  members(): Promise<readonly Member[]> {
    return this.run('members', async () => {
      const { rows } = await (await this.ready()).query<MemberRow>(CLUSTER_SQL.members);
      return rows.map((row) => ({ id: row.id, url: row.url, incarnation: Number(row.incarnation), expiresAt: Number(row.expires_ms) }));
    });
  }

  acquire(memberId: string, incarnation: number, slots: readonly number[], leaseMs: number): Promise<readonly SlotLease[] | undefined> {
    return this.run('acquire', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkSlots(slots, 'slots');
      checkLeaseMs(leaseMs);
      const sorted = [...slots].sort((a, b) => a - b);
      const { rows } = await (await this.ready()).query<LeaseRow>(CLUSTER_SQL.acquire, [memberId, incarnation, sorted, leaseMs]);
      return leases(rows);
    });
  }

  release(memberId: string, incarnation: number, slots: readonly number[]): Promise<readonly number[]> {
    return this.run('release', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkSlots(slots, 'slots');
      if (slots.length === 0) return [];
      const { rows } = await (await this.ready()).query<{ slot: number }>(CLUSTER_SQL.release, [memberId, incarnation, [...slots]]);
      return rows.map((row) => row.slot).sort((a, b) => a - b);
    });
  }

  leave(memberId: string, incarnation: number): Promise<void> {
    return this.run('leave', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      await (await this.ready()).query(CLUSTER_SQL.leave, [memberId, incarnation]);
    });
  }

  owners(): Promise<ReadonlyMap<number, SlotOwner>> {
    return this.run('owners', async () => {
      const { rows } = await (await this.ready()).query<OwnerRow>(CLUSTER_SQL.owners);
      return new Map(rows.map((row) => [row.slot, {
        owner: row.owner, url: row.url, incarnation: Number(row.incarnation), epoch: Number(row.epoch), expiresAt: Number(row.expires_ms),
      }]));
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const pool = await this.opening?.catch(() => undefined);
      this.opening = undefined;
      if (pool === undefined) return;
      if (pool === this.injected) pool.off('error', this.onIdleError);
      else await pool.end();
    })().catch((error: unknown) => {
      throw translateError('membership close', error);
    });
    return this.closing;
  }

  /** The pool with the cluster tables in place; a failed open leaves nothing behind, so the next call retries. */
  private ready(): Promise<Pool> {
    if (this.closing !== undefined) return Promise.reject(closedError());
    this.opening ??= this.openPool().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async openPool(): Promise<Pool> {
    const pool = this.injected ?? (await createPool(this.settings, { what: 'the postgres membership', applicationName: 'oaas-sdk membership' }));
    pool.on('error', this.onIdleError);
    try {
      await ensureClusterSchema(pool);
      return pool;
    } catch (error) {
      if (pool === this.injected) pool.off('error', this.onIdleError);
      else await pool.end();
      throw error;
    }
  }

  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      if (this.closing !== undefined) throw closedError();
      return await body();
    } catch (error) {
      throw translateError(`membership ${operation}`, error);
    }
  }
}

function closedError(): StoreError {
  return new StoreError('postgres membership is closed', { transient: false });
}

function only<T>(rows: readonly T[], operation: string): T {
  const [row] = rows;
  if (row === undefined || rows.length !== 1) throw new StoreError(`postgres membership: ${operation} returned ${rows.length} rows, expected 1`, { transient: false });
  return row;
}

/** The rows of heartbeat and acquire: none when the incarnation is not current; a null slot when it owns none. */
function leases(rows: readonly LeaseRow[]): SlotLease[] | undefined {
  if (rows.length === 0) return undefined;
  return rows.flatMap((row) => (row.slot === null ? [] : [{ slot: row.slot, epoch: Number(row.epoch), expiresAt: Number(row.expires_ms) }]));
}
