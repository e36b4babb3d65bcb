/**
 * Layout 1 to layout 2 on PostgreSQL: a database written by a release of
 * schema version 1 (test/fixtures/layout-1/postgres.sql, a pg_dump of it) is
 * migrated in place on open, in one transaction under the schema lock: every
 * object is kept byte-exact, two processes opening at once migrate once, and
 * a process killed in the middle leaves layout 1 as it was.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { GENERATED } from '../fixtures/layout-1/write-fixture.js';
import { postgresUnavailableReason } from '../servers/postgres-server.js';
import { postgresForSuite } from '../support/postgres-suite.js';
import { TsChild } from '../support/child.js';
import { comparable, everything, expected } from './layout-1-support.js';

const unavailable = postgresUnavailableReason();
const FIXTURE = new URL('../fixtures/layout-1/postgres.sql', import.meta.url);
const OPENER = new URL('../fixtures/open-store.ts', import.meta.url);

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function schemaOf(url: string): Promise<{ version: string | undefined; tables: string[] }> {
  const version = (await query<{ value: string }>(url, "SELECT value FROM oaas_meta WHERE key = 'schema_version'"))[0]?.value;
  const tables = (await query<{ name: string }>(url, "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map((r) => r.name);
  return { version, tables };
}

describe.skipIf(unavailable !== undefined)('PostgreSQL layout 1 to 2', () => {
  const server = postgresForSuite();
  let url: string;
  const stores: PostgresStore[] = [];
  const children: TsChild[] = [];

  beforeEach(async () => {
    url = await server().createDatabase();
    await query(url, await readFile(FIXTURE, 'utf8'));
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.signal('SIGKILL');
      await child.exit();
    }
    for (const store of stores.splice(0)) await store.close();
    await server().dropDatabase(url);
  });

  const open = (): PostgresStore => {
    const store = new PostgresStore({ url, poolSize: 2 });
    stores.push(store);
    return store;
  };

  it('starts from a database of layout 1', async () => {
    expect(await schemaOf(url)).toEqual({ version: '1', tables: ['oaas_entries', 'oaas_meta', 'oaas_objects'] });
  });

  it('migrates on open: every object, version and entry byte-exact, in one table', async () => {
    const store = open();
    await store.open();
    expect(await schemaOf(url)).toEqual({ version: '2', tables: ['oaas_meta', 'oaas_objects'] });
    const migrated = comparable(await everything(store));
    expect(Object.keys(migrated)).toHaveLength(5 + GENERATED);
    expect(migrated).toEqual(await expected());
    const key = { clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' };
    expect(await store.apply([{ kind: 'put', key, expectedVersion: 3, set: new Map([['balance', new TextEncoder().encode('1')]]) }])).toEqual([4]);
  });

  it('gives the migrated objects no wake time, and the columns and indexes of a new database', async () => {
    const store = open();
    await store.open();
    expect(await query(url, 'SELECT count(*)::int AS n FROM oaas_objects WHERE wake_at IS NOT NULL')).toEqual([{ n: 0 }]);
    const shape = async (of: string): Promise<unknown> => ({
      columns: await query(of, "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'oaas_objects' ORDER BY column_name"),
      indexes: await query(of, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'oaas_objects' ORDER BY indexname"),
    });
    const fresh = await server().createDatabase();
    const other = new PostgresStore({ url: fresh, poolSize: 1 });
    try {
      await other.open();
      expect(await shape(url)).toEqual(await shape(fresh));
    } finally {
      await other.close();
      await server().dropDatabase(fresh);
    }
    expect(await query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'oaas_objects' AND indexname = 'oaas_objects_wake'")).toHaveLength(1);
    expect(await store.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
    const key = { clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' };
    await store.apply([{ kind: 'put', key, expectedVersion: 3, wakeAt: 1234 }]);
    expect(await store.due(2000)).toEqual([{ key, wakeAt: 1234, version: 4 }]);
  });

  it('migrates once when two processes open the database at the same time', async () => {
    const [a, b] = [open(), open()];
    await Promise.all([a.open(), b.open()]);
    expect((await schemaOf(url)).version).toBe('2');
    expect(comparable(await everything(b))).toEqual(await expected());
  });

  it('leaves layout 1 intact when the process is killed in the middle, and migrates on the next open', async () => {
    await query(url, `INSERT INTO oaas_objects SELECT 'fixture.Bulk', 0, 'b-' || lpad(i::text, 6, '0'), 2 FROM generate_series(1, 100000) AS i;
      INSERT INTO oaas_entries SELECT cls_id, partition_id, object_id, 'count', convert_to(substr(object_id, 3), 'UTF8') FROM oaas_objects WHERE cls_id = 'fixture.Bulk'`);
    const child = new TsChild(OPENER, [url]);
    children.push(child);
    await child.waitFor((line) => line === 'opening');
    // Kill once the migration is rewriting rows: its transaction has added the new columns and runs its reads and updates.
    const watcher = new pg.Client({ connectionString: url });
    await watcher.connect();
    try {
      const started = Date.now();
      for (;;) {
        const running = await watcher.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'oaas-sdk' AND (query LIKE 'UPDATE oaas_objects o SET state%' OR query LIKE '%FROM oaas_entries%')",
        );
        if (Number(running.rows[0]?.n) > 0) break;
        if (Date.now() - started > 20_000 || child.lines.includes('opened')) throw new Error(`the migration was not caught in the middle: ${child.stdout}`);
      }
    } finally {
      await watcher.end();
    }
    child.signal('SIGKILL');
    await child.exit();
    expect(child.lines).not.toContain('opened');
    // The server rolls the transaction back once it notices the connection is gone.
    for (let i = 0; i < 500; i++) {
      const left = await query<{ n: string }>(url, "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'oaas-sdk'");
      if (Number(left[0]?.n) === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(await schemaOf(url)).toEqual({ version: '1', tables: ['oaas_entries', 'oaas_meta', 'oaas_objects'] });
    const columns = await query<{ column_name: string }>(url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'oaas_objects' ORDER BY ordinal_position");
    expect(columns.map((c) => c.column_name)).toEqual(['cls_id', 'partition_id', 'object_id', 'version']);

    const store = open();
    await store.open();
    expect((await schemaOf(url)).version).toBe('2');
    expect(comparable(await everything(store))).toEqual(await expected());
    expect((await store.list('fixture.Bulk', 0, { limit: 1 })).objects[0]).toEqual({ objectId: 'b-000001', version: 2, entryCount: 1 });
    expect(new TextDecoder().decode((await store.get({ clsId: 'fixture.Bulk', partitionId: 0, objectId: 'b-100000' }))?.entries.get('count'))).toBe('100000');
  });
});

/**
 * A database of schema version 2 written before the objects table had a
 * fillfactor (test/fixtures/layout-2/postgres.sql): opening it sets the one
 * a new database gets, and nothing else changes. A fillfactor set by hand,
 * and a role that may not alter the table, are left as they are.
 */
describe.skipIf(unavailable !== undefined)('PostgreSQL layout 2 without a fillfactor', () => {
  const server = postgresForSuite();
  let url: string;
  const stores: PostgresStore[] = [];
  const LAYOUT_2 = new URL('../fixtures/layout-2/postgres.sql', import.meta.url);
  const options = async (of = url): Promise<string[] | null> =>
    (await query<{ options: string[] | null }>(of, "SELECT reloptions AS options FROM pg_class WHERE relname = 'oaas_objects'"))[0]?.options ?? null;
  const open = async (of = url): Promise<PostgresStore> => {
    const store = new PostgresStore({ url: of, poolSize: 2 });
    stores.push(store);
    await store.open();
    return store;
  };

  beforeEach(async () => {
    url = await server().createDatabase();
    await query(url, await readFile(LAYOUT_2, 'utf8'));
  });

  afterEach(async () => {
    for (const store of stores.splice(0)) await store.close();
    await server().dropDatabase(url);
  });

  it('gets the fillfactor of a new database on open, with every object, version and wake time as it was', async () => {
    expect(await options()).toBeNull();
    const rows = (): Promise<unknown[]> => query(url, 'SELECT * FROM oaas_objects ORDER BY cls_id, partition_id, object_id');
    const before = await rows();
    expect(before).toHaveLength(5);
    const store = await open();
    expect(await options()).toEqual(['fillfactor=50']);
    expect(await schemaOf(url)).toEqual({ version: '2', tables: ['oaas_meta', 'oaas_objects'] });
    expect(await rows()).toEqual(before);
    const fresh = await server().createDatabase();
    try {
      await open(fresh);
      expect(await options(fresh)).toEqual(await options());
    } finally {
      await stores.pop()?.close();
      await server().dropDatabase(fresh);
    }
    const alice = { clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' };
    expect(new TextDecoder().decode((await store.get(alice))?.entries.get('balance'))).toBe('95.5');
    expect(await store.due(Number.MAX_SAFE_INTEGER)).toEqual([{ key: { ...alice, objectId: 'bob' }, wakeAt: 1_700_000_000_000, version: 3 }]);
    expect(await store.apply([{ kind: 'put', key: alice, expectedVersion: 3, set: new Map([['balance', new TextEncoder().encode('1')]]) }])).toEqual([4]);
  });

  it('leaves a fillfactor set by hand as it is', async () => {
    await query(url, 'ALTER TABLE oaas_objects SET (fillfactor = 80)');
    await open();
    expect(await options()).toEqual(['fillfactor=80']);
  });

  it('opens for a role that may use the table but not alter it, and leaves the table as it was', async () => {
    await query(url, `CREATE ROLE oaas_user LOGIN; GRANT SELECT, INSERT, UPDATE, DELETE ON oaas_objects, oaas_meta TO oaas_user`);
    try {
      const limited = new URL(url);
      limited.username = 'oaas_user';
      const store = await open(limited.toString());
      expect(await options()).toBeNull();
      const bob = { clsId: 'fixture.Account', partitionId: 0, objectId: 'bob' };
      expect((await store.get(bob))?.version).toBe(3);
      expect(await store.apply([{ kind: 'put', key: bob, expectedVersion: 3, set: new Map([['balance', new TextEncoder().encode('7')]]) }])).toEqual([4]);
    } finally {
      for (const store of stores.splice(0)) await store.close();
      await query(url, 'DROP OWNED BY oaas_user; DROP ROLE oaas_user');
    }
  });
});
