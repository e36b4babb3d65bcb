/**
 * The membership contract and fenced commits on a real, throw-away
 * PostgreSQL server, then what only PostgreSQL shows: its tables and their
 * version, and the timeouts of a fenced transaction.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { PostgresMembership } from '../../src/stores/postgres/membership.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../servers/postgres-server.js';
import { rejection } from '../support/promises.js';
import { describeMembershipContract } from './membership-contract.js';

const unavailable = postgresUnavailableReason();
if (unavailable !== undefined) console.log(`postgres membership suites skipped: ${unavailable}`);

/** Runs `sql` on a connection of its own. */
async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Empties the cluster and object tables, where they exist. */
async function wipe(url: string): Promise<void> {
  await query(url, `DO $$ BEGIN
    IF to_regclass('oaas_objects') IS NOT NULL THEN DELETE FROM oaas_objects; END IF;
    IF to_regclass('oaas_slots') IS NOT NULL THEN DELETE FROM oaas_slots; DELETE FROM oaas_members; END IF;
  END $$`);
}

describe.skipIf(unavailable !== undefined)('postgres membership', () => {
  let server: PostgresServer;
  let url: string;
  beforeAll(async () => {
    server = (await startPostgres())!;
    url = await server.createDatabase();
  }, 60_000);
  afterAll(async () => {
    await server.destroy();
  });

  describeMembershipContract('postgres', () => Promise.resolve({
    membership: new PostgresMembership({ url }),
    store: new PostgresStore({ url, poolSize: 2 }),
    another: () => new PostgresMembership({ url }),
    cleanup: () => wipe(url),
  }));

  describe('tables', () => {
    it('creates the cluster tables on first use, beside the object tables, with their own version', async () => {
      const fresh = await server.createDatabase();
      const store = new PostgresStore({ url: fresh });
      await store.open();
      // A store that is never fenced leaves the database as earlier releases made it.
      expect(await query(fresh, "SELECT to_regclass('oaas_slots') IS NULL AS absent")).toEqual([{ absent: true }]);
      const membership = new PostgresMembership({ url: fresh });
      await membership.join({ id: 'a', url: 'http://a.test' }, 1000);
      const meta = await query<{ key: string; value: string }>(fresh, 'SELECT key, value FROM oaas_meta ORDER BY key');
      expect(meta).toEqual([{ key: 'cluster_schema_version', value: '1' }, { key: 'schema_version', value: '2' }]);
      const rows = await query(fresh, 'SELECT id, url, incarnation, active FROM oaas_members');
      expect(rows).toEqual([{ id: 'a', url: 'http://a.test', incarnation: '1', active: true }]);
      await Promise.all([store.close(), membership.close()]);
    });

    it('lets a fenced batch create the slot table when no membership has yet, and refuses the fence', async () => {
      const fresh = await server.createDatabase();
      const store = new PostgresStore({ url: fresh });
      const error = await rejection(store.apply([{ kind: 'put', key: { clsId: 'c', partitionId: 0, objectId: 'x' } }], { fence: { memberId: 'a', slots: [{ slot: 0, epoch: 1 }, ...Array.from({ length: 255 }, (_, i) => ({ slot: i + 1, epoch: 1 }))] } }));
      expect((error as { code?: string }).code).toBe('OAAS_ERR_COMMIT_FENCED');
      expect(await query(fresh, "SELECT to_regclass('oaas_slots') IS NOT NULL AS present")).toEqual([{ present: true }]);
      await store.close();
    });

    it('refuses cluster tables of another version', async () => {
      const fresh = await server.createDatabase();
      await new PostgresMembership({ url: fresh }).open();
      await query(fresh, "UPDATE oaas_meta SET value = '99' WHERE key = 'cluster_schema_version'");
      const membership = new PostgresMembership({ url: fresh });
      const error = await rejection(membership.members());
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(false);
      expect((error as StoreError).message).toMatch(/cluster schema version 99.*supports cluster schema version 1/);
      await membership.close();
    });
  });

  describe('options', () => {
    it('refuses malformed options with InvalidArgumentError', () => {
      for (const options of [null, {}, { url: '' }, { url, poolSize: 0 }, { url, statementTimeoutMs: 1.5 }, { url, connectTimeoutMs: -1 }, { url, pool: {} }]) {
        expect(() => new PostgresMembership(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'OAAS_ERR_ARGUMENT_INVALID' }) as Error);
      }
      for (const leaseMs of [0, 1, 2.5, '10']) {
        expect(() => new PostgresStore({ url, leaseMs: leaseMs as never })).toThrow(expect.objectContaining({ code: 'OAAS_ERR_ARGUMENT_INVALID', argument: 'options.leaseMs' }) as Error);
      }
    });
  });
});
