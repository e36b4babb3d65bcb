/**
 * Layout 1 to layout 2 on SQLite: a file written by a release of schema
 * version 1 (test/fixtures/layout-1/state.db) is migrated in place on open,
 * keeps every object byte-exact with its version, and survives a process
 * killed in the middle of its migration.
 */
import { statSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitAll, configureOaas, method, OaasObject, runInSession, service, shutdown } from '../../src/index.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import type { Store } from '../../src/stores/store.js';
import { GENERATED } from '../fixtures/layout-1/write-fixture.js';
import { comparable, everything, expected } from './layout-1-support.js';
import { TsChild } from '../support/child.js';

const FIXTURE = new URL('../fixtures/layout-1/state.db', import.meta.url);
const OPENER = new URL('../fixtures/open-store.ts', import.meta.url);
function schemaOf(path: string): { version: string | undefined; tables: string[] } {
  const db = new Database(path, { readonly: true });
  try {
    const version = db.prepare<[], string>("SELECT value FROM oaas_meta WHERE key = 'schema_version'").pluck().get();
    const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
    return { version, tables };
  } finally {
    db.close();
  }
}

describe('SQLite layout 1 to 2', () => {
  let dir: string;
  let path: string;
  const stores: Store[] = [];
  const children: TsChild[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oaas-migrate-'));
    path = join(dir, 'state.db');
    await copyFile(FIXTURE, path);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.signal('SIGKILL');
      await child.exit();
    }
    await shutdown();
    for (const store of stores.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (): SqliteStore => {
    const store = new SqliteStore({ path });
    stores.push(store);
    return store;
  };

  it('starts from a file of layout 1', () => {
    expect(schemaOf(path)).toEqual({ version: '1', tables: ['oaas_entries', 'oaas_meta', 'oaas_objects'] });
  });

  it('migrates on open: every object, version and entry byte-exact, in one table', async () => {
    const store = open();
    await store.open();
    expect(schemaOf(path)).toEqual({ version: '2', tables: ['oaas_meta', 'oaas_objects', 'sqlite_sequence'] });
    const migrated = comparable(await everything(store));
    expect(Object.keys(migrated)).toHaveLength(5 + GENERATED);
    expect(migrated).toEqual(await expected());
    expect(migrated['fixture.Account/0/alice']?.version).toBe(3);
    expect(migrated['fixture.Raw/1/bytes']?.entries.blob).toBe('00ff01fe');
  });

  it('keeps writing where the old release left off, and a second open does nothing more', async () => {
    const store = open();
    const key = { clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' };
    expect(await store.apply([{ kind: 'put', key, expectedVersion: 3, set: new Map([['balance', new TextEncoder().encode('1')]]) }])).toEqual([4]);
    await store.close();
    const again = open();
    expect((await again.get(key))?.version).toBe(4);
    expect(schemaOf(path).version).toBe('2');
  });

  it('gives the migrated objects no wake time, with the wake index in place for the ones set later', async () => {
    const store = open();
    await store.open();
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare<[], number>('SELECT count(*) FROM oaas_objects WHERE wake_at IS NOT NULL').pluck().get()).toBe(0);
      expect(db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'oaas_objects' AND name = 'oaas_objects_wake'").pluck().all()).toEqual(['oaas_objects_wake']);
    } finally {
      db.close();
    }
    expect(await store.due(Number.MAX_SAFE_INTEGER)).toEqual([]);
    const key = { clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' };
    await store.apply([{ kind: 'put', key, expectedVersion: 3, wakeAt: 1234 }]);
    expect(await store.due(2000)).toEqual([{ key, wakeAt: 1234, version: 4 }]);
  });

  it('serves the migrated objects to decorated classes', async () => {
    @service('Account', { package: 'fixture' })
    class Account extends OaasObject {
      owner = '';
      balance = 0;
      note = '';

      @method()
      async deposit(amount: number): Promise<number> {
        this.balance += amount;
        return this.balance;
      }
    }
    await configureOaas({ store: `sqlite:${path}`, autoCommit: false, logLevel: 'silent' });
    const balance = await runInSession(async () => {
      const alice = await Account.load('alice');
      expect([alice.owner, alice.note, alice.version]).toEqual(['Alice', 'line\nbreak "quoted"', 3]);
      const result = await alice.deposit(4.5);
      await commitAll();
      return result;
    });
    expect(balance).toBe(100);
    await shutdown();
    const store = open();
    const stored = await store.get({ clsId: 'fixture.Account', partitionId: 0, objectId: 'alice' });
    expect(stored?.version).toBe(4);
    expect(new TextDecoder().decode(stored?.entries.get('balance'))).toBe('100');
  });

  it('leaves layout 1 intact when the process is killed in the middle, and migrates on the next open', async () => {
    // Enough objects that the migration takes a while, written straight in layout 1.
    const db = new Database(path);
    db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
      INSERT INTO oaas_objects SELECT 'fixture.Bulk', 0, printf('b-%06d', i), 2 FROM n;
      INSERT INTO oaas_entries SELECT cls_id, partition_id, object_id, 'count', CAST(substr(object_id, 3) AS BLOB) FROM oaas_objects WHERE cls_id = 'fixture.Bulk'`);
    db.close();
    const child = new TsChild(OPENER, [`sqlite:${path}`]);
    children.push(child);
    await child.waitFor((line) => line === 'opening');
    // Kill once the migration is writing: its transaction spills pages into the write-ahead log.
    const wal = `${path}-wal`;
    const started = Date.now();
    while ((statSync(wal, { throwIfNoEntry: false })?.size ?? 0) < 64 * 1024) {
      if (Date.now() - started > 20_000 || child.lines.includes('opened')) throw new Error(`the migration was not caught in the middle: ${child.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    child.signal('SIGKILL');
    await child.exit();
    expect(child.lines).not.toContain('opened');

    expect(schemaOf(path)).toEqual({ version: '1', tables: ['oaas_entries', 'oaas_meta', 'oaas_objects'] });
    const store = open();
    await store.open();
    expect(schemaOf(path).version).toBe('2');
    expect(comparable(await everything(store))).toEqual(await expected());
    const bulk = await store.list('fixture.Bulk', 0, { limit: 1000 });
    expect(bulk.objects[0]).toEqual({ objectId: 'b-000001', version: 2, entryCount: 1 });
    expect(new TextDecoder().decode((await store.get({ clsId: 'fixture.Bulk', partitionId: 0, objectId: 'b-120000' }))?.entries.get('count'))).toBe('120000');
  });
});
