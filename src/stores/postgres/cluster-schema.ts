/**
 * The cluster tables of the PostgreSQL backend and every statement over
 * them: the membership's, and the check a fenced batch runs first.
 *
 * - `oaas_members`: one row per member id ever joined (rows stay after a
 *   member leaves, so its next incarnation counts on from the last).
 * - `oaas_slots`: one row per slot ever owned; `owner` is null once released.
 *   `epoch` only grows.
 *
 * A slot is owned while its row names an owner and incarnation whose member
 * row is active, of that same incarnation and unexpired. A slot's lease is
 * thus its owner's: a heartbeat writes one row, and never waits for the
 * `FOR SHARE` locks fenced batches hold on slot rows. Time is always the
 * server's (`now()`, or `clock_timestamp()` inside a longer transaction).
 * Every operation is one statement.
 */
import type { Pool } from 'pg';
import { ensureSchema, type SchemaPart } from './schema.js';

/** The version of the cluster tables this release reads and writes, kept in `oaas_meta` beside the object tables'. */
export const CLUSTER_SCHEMA_VERSION = '1';

const CLUSTER_DDL = `
CREATE TABLE IF NOT EXISTS oaas_members (
  id text COLLATE "C" PRIMARY KEY,
  url text NOT NULL,
  incarnation bigint NOT NULL,
  active boolean NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS oaas_slots (
  slot integer PRIMARY KEY,
  owner text COLLATE "C",
  owner_incarnation bigint,
  epoch bigint NOT NULL
);`;

const CLUSTER_TABLES: SchemaPart = { key: 'cluster_schema_version', version: CLUSTER_SCHEMA_VERSION, ddl: CLUSTER_DDL, label: 'cluster schema version' };

/** Creates the cluster tables if they are missing (under the schema lock, as the object tables are) and checks their version. */
export function ensureClusterSchema(pool: Pool): Promise<void> {
  return ensureSchema(pool, CLUSTER_TABLES);
}

/** Milliseconds since 1970 of a timestamptz column, as a bigint. */
const ms = (column: string): string => `floor(extract(epoch FROM ${column}) * 1000)::int8`;
const LEASE = (param: number): string => `now() + $${param}::int * interval '1 millisecond'`;
/** The owner of slot row `s` is current and its lease has not lapsed at `clock`. */
const OWNER_LIVE = (clock: string): string =>
  `EXISTS (SELECT 1 FROM oaas_members o WHERE o.id = s.owner AND o.incarnation = s.owner_incarnation AND o.active AND o.expires_at > ${clock})`;

/** Every statement of the membership and the fence; `$1` is always the member id, `$2` its incarnation. */
export const CLUSTER_SQL = {
  /** $2 url, $3 lease. A rejoin bumps the incarnation, which frees the slots of the previous one. */
  join: `INSERT INTO oaas_members AS m (id, url, incarnation, active, expires_at) VALUES ($1, $2, 1, true, ${LEASE(3)})
    ON CONFLICT (id) DO UPDATE SET url = excluded.url, incarnation = m.incarnation + 1, active = true, expires_at = excluded.expires_at
    RETURNING incarnation`,
  /** $3 lease. No row: the incarnation is not current. One row with a null slot: current, owning nothing. */
  heartbeat: `WITH me AS (
      UPDATE oaas_members SET expires_at = ${LEASE(3)} WHERE id = $1 AND incarnation = $2 AND active RETURNING expires_at)
    SELECT ${ms('me.expires_at')} AS expires_ms, s.slot, s.epoch
    FROM me LEFT JOIN oaas_slots s ON s.owner = $1 AND s.owner_incarnation = $2 ORDER BY s.slot`,
  /**
   * $3 the slots (sorted, so rows are locked in one order and two takeovers
   * queue rather than deadlock), $4 lease. A row is taken when it has no
   * owner or its owner is not live; the member's own rows are left alone (no
   * epoch bump) and read from the statement's snapshot.
   */
  acquire: `WITH me AS (
      UPDATE oaas_members SET expires_at = ${LEASE(4)} WHERE id = $1 AND incarnation = $2 AND active RETURNING expires_at),
    taken AS (
      INSERT INTO oaas_slots AS s (slot, owner, owner_incarnation, epoch)
      SELECT w.slot, $1, $2, 1 FROM unnest($3::int[]) AS w(slot) WHERE EXISTS (SELECT 1 FROM me) ORDER BY w.slot
      ON CONFLICT (slot) DO UPDATE SET owner = excluded.owner, owner_incarnation = excluded.owner_incarnation, epoch = s.epoch + 1
      WHERE s.owner IS NULL OR ((s.owner, s.owner_incarnation) IS DISTINCT FROM ($1::text, $2::int8) AND NOT ${OWNER_LIVE('now()')})
      RETURNING s.slot, s.epoch),
    held AS (
      SELECT slot, epoch FROM taken
      UNION ALL
      SELECT slot, epoch FROM oaas_slots WHERE slot = ANY($3::int[]) AND owner = $1 AND owner_incarnation = $2)
    SELECT ${ms('me.expires_at')} AS expires_ms, held.slot, held.epoch FROM me LEFT JOIN held ON true ORDER BY held.slot`,
  /** $3 the slots. Rows are locked in slot order first, as `acquire` does. */
  release: `WITH mine AS (
      SELECT slot FROM oaas_slots WHERE slot = ANY($3::int[]) AND owner = $1 AND owner_incarnation = $2 ORDER BY slot FOR UPDATE)
    UPDATE oaas_slots s SET owner = NULL, owner_incarnation = NULL FROM mine WHERE s.slot = mine.slot RETURNING s.slot`,
  leave: `WITH me AS (
      UPDATE oaas_members SET active = false, expires_at = least(expires_at, now()) WHERE id = $1 AND incarnation = $2 AND active RETURNING id),
    mine AS (SELECT slot FROM oaas_slots WHERE owner = $1 AND owner_incarnation = $2 ORDER BY slot FOR UPDATE),
    freed AS (UPDATE oaas_slots s SET owner = NULL, owner_incarnation = NULL FROM mine WHERE s.slot = mine.slot RETURNING s.slot)
    SELECT (SELECT count(*) FROM me) AS left_now, (SELECT count(*) FROM freed) AS freed`,
  members: `SELECT id, url, incarnation, ${ms('expires_at')} AS expires_ms FROM oaas_members WHERE active AND expires_at > now() ORDER BY id`,
  owners: `SELECT s.slot, s.owner, m.url, m.incarnation, s.epoch, ${ms('m.expires_at')} AS expires_ms
    FROM oaas_slots s JOIN oaas_members m ON m.id = s.owner AND m.incarnation = s.owner_incarnation
    WHERE m.active AND m.expires_at > now() ORDER BY s.slot`,
  /**
   * The first statement of a fenced batch: $1 the member, $2 the slots, $3
   * their epochs. Returns the slots that hold, locked `FOR SHARE` until the
   * batch ends, so a takeover (which updates the row) waits for the batch, and
   * a batch that comes after a takeover sees the new owner. In slot order, as
   * takeovers lock. `clock_timestamp()`: the time of the check, not of BEGIN.
   */
  fence: `SELECT s.slot FROM oaas_slots s JOIN unnest($2::int[], $3::int8[]) AS f(slot, epoch) ON f.slot = s.slot AND f.epoch = s.epoch
    WHERE s.owner = $1 AND ${OWNER_LIVE('clock_timestamp()')} ORDER BY s.slot FOR SHARE OF s`,
} as const;

/** A row of `heartbeat` and `acquire`. `bigint` columns arrive as strings. */
export interface LeaseRow { expires_ms: string | number; slot: number | null; epoch: string | number | null }
/** A row of `members`. */
export interface MemberRow { id: string; url: string; incarnation: string | number; expires_ms: string | number }
/** A row of `owners`. */
export interface OwnerRow { slot: number; owner: string; url: string; incarnation: string | number; epoch: string | number; expires_ms: string | number }
