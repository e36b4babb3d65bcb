import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, StoreError } from '../../src/errors.js';
import { DUE_SQL } from '../../src/stores/sqlite/connection.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/stores/sqlite/sqlite-store.js';
import { TRUSTED_BATCH, type ObjectKey, type Store, type TrustedPut } from '../../src/stores/store.js';
import { describeApplyNowContract, describeStoreContract } from './store-contract.js';
import { rejection } from '../support/promises.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'oaas-sqlite-'));
}

describeStoreContract('sqlite (file)', async () => {
  const dir = await tempDir();
  return {
    store: new SqliteStore({ path: join(dir, 'state.db') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeStoreContract('sqlite (:memory:)', () => Promise.resolve({ store: new SqliteStore({ path: ':memory:' }) }));

describeApplyNowContract('sqlite (file)', async () => {
  const dir = await tempDir();
  return {
    store: new SqliteStore({ path: join(dir, 'state.db') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

const key = (objectId: string): ObjectKey => ({ clsId: 'cls', partitionId: 0, objectId });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);


describe('SqliteStore', () => {
  let dir: string;
  let path: string;
  const opened: Store[] = [];
  const raws: Database.Database[] = [];

  const makeStore = (options: Partial<SqliteStoreOptions> = {}): SqliteStore => {
    const store = new SqliteStore({ path, ...options });
    opened.push(store);
    return store;
  };
  const raw = (): Database.Database => {
    const db = new Database(path);
    raws.push(db);
    return db;
  };

  beforeEach(async () => {
    dir = await tempDir();
    path = join(dir, 'state.db');
  });

  afterEach(async () => {
    for (const db of raws.splice(0)) if (db.open) db.close();
    for (const store of opened.splice(0)) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps data across close and reopen of the same file', async () => {
    const first = makeStore();
    await first.apply([{ kind: 'put', key: key('a'), set: new Map([['x', bytes('kept')]]) }]);
    await first.apply([{ kind: 'put', key: key('a') }]);
    await first.close();
    const second = makeStore();
    const object = await second.get(key('a'));
    expect(object?.version).toBe(2);
    expect(new TextDecoder().decode(object?.entries.get('x'))).toBe('kept');
  });

  it('opens lazily on the first call', async () => {
    const store = makeStore();
    expect(await store.get(key('a'))).toBeUndefined();
    expect(await store.apply([{ kind: 'put', key: key('a') }])).toEqual([1]);
  });

  it('puts a file database in WAL mode', async () => {
    await makeStore().open();
    expect(raw().pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('lets two stores on one file see each other and conflict', async () => {
    const a = makeStore();
    const b = makeStore();
    await a.apply([{ kind: 'put', key: key('x'), expectedVersion: 0 }]);
    expect((await b.get(key('x')))?.version).toBe(1);
    expect(await b.apply([{ kind: 'put', key: key('x'), expectedVersion: 1 }])).toEqual([2]);
    await expect(a.apply([{ kind: 'put', key: key('x'), expectedVersion: 1 }])).rejects.toBeInstanceOf(ConflictError);
  });

  it('writes a trusted put whose row hint no longer holds (the object was re-created elsewhere) by its key, and hands back the new hint', async () => {
    const a = makeStore();
    const b = makeStore();
    await a.apply([{ kind: 'put', key: key('x'), expectedVersion: 0, set: new Map([['n', bytes('1')]]) }]);
    const stale = (await a.get(key('x')))?.hint;
    expect(stale).toBeTypeOf('number');
    await b.apply([{ kind: 'delete', key: key('x'), expectedVersion: 1 }]);
    await b.apply([{ kind: 'put', key: key('x'), expectedVersion: 0, set: new Map([['n', bytes('5')]]) }]);
    const put: TrustedPut = { kind: 'put', key: key('x'), expectedVersion: 1, state: '{"n":6}', entryCount: 1, hint: stale };
    expect(await a.apply([put], { [TRUSTED_BATCH]: true })).toEqual([2]);
    const fresh = await b.get(key('x'));
    expect(new TextDecoder().decode(fresh?.entries.get('n'))).toBe('6');
    expect(put.hint).toBe(fresh?.hint);
    expect(put.hint).not.toBe(stale);
  });

  describe('a large trusted batch (written set-based, in chunks)', () => {
    const COUNT = 250;
    /** COUNT stored objects, and a trusted put of each at its stored version and row id. */
    async function storedPuts(store: SqliteStore): Promise<TrustedPut[]> {
      const keys = Array.from({ length: COUNT }, (_, i) => key(`o${i}`));
      await store.apply(keys.map((k) => ({ kind: 'put' as const, key: k, expectedVersion: 0, set: new Map([['n', bytes('0')]]) })));
      const stored = await store.getMany(keys);
      return stored.map((o, i) => ({ kind: 'put', key: keys[i]!, expectedVersion: o!.version, state: `{"n":${i + 1}}`, entryCount: 1, hint: o!.hint }));
    }
    const values = async (store: Store): Promise<string[]> =>
      (await store.getMany(Array.from({ length: COUNT }, (_, i) => key(`o${i}`)))).map((o) => new TextDecoder().decode(o?.entries.get('n')));

    it('writes every object, whole chunks and the rest, and returns each new version in order', async () => {
      const store = makeStore();
      const puts = await storedPuts(store);
      expect(await store.apply(puts, { [TRUSTED_BATCH]: true })).toEqual(puts.map(() => 2));
      expect(await values(store)).toEqual(puts.map((_, i) => String(i + 1)));
      expect((await store.get(key('o249')))?.version).toBe(2);
    });

    it('names exactly the objects another writer changed, in a whole chunk and in the rest, and writes nothing', async () => {
      const a = makeStore();
      const b = makeStore();
      const puts = await storedPuts(a);
      await b.apply([
        { kind: 'put', key: key('o150'), expectedVersion: 1 },
        { kind: 'put', key: key('o230'), expectedVersion: 1 },
      ]);
      const error = await rejection(a.apply(puts, { [TRUSTED_BATCH]: true }));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).conflicts.map((c) => [c.ref.objectId, c.expected, c.actual])).toEqual([
        ['o150', 1, 2],
        ['o230', 1, 2],
      ]);
      expect(await values(a)).toEqual(puts.map(() => '0'));
    });

    it('writes an object whose row was re-created since by its key, and hands back its new row id', async () => {
      const a = makeStore();
      const b = makeStore();
      const puts = await storedPuts(a);
      const stale = puts[42]!.hint;
      await b.apply([{ kind: 'delete', key: key('o42'), expectedVersion: 1 }]);
      await b.apply([{ kind: 'put', key: key('o42'), expectedVersion: 0, set: new Map([['n', bytes('9')]]) }]);
      expect(await a.apply(puts, { [TRUSTED_BATCH]: true })).toEqual(puts.map(() => 2));
      expect(await values(a)).toEqual(puts.map((_, i) => String(i + 1)));
      expect(puts[42]!.hint).not.toBe(stale);
      expect(puts[42]!.hint).toBe((await a.get(key('o42')))?.hint);
    });
  });

  it('finds due objects through the partial wake index, in its order (no sort), among many objects without a wake time', async () => {
    const store = makeStore();
    await store.apply(Array.from({ length: 2000 }, (_, i) => ({ kind: 'put' as const, key: key(`plain-${i}`) })));
    await store.apply([{ kind: 'put', key: key('late'), wakeAt: 300 }, { kind: 'put', key: key('soon'), wakeAt: 100 }]);
    const db = raw();
    db.exec('ANALYZE');
    const plan = db.prepare<[number, number], { detail: string }>(`EXPLAIN QUERY PLAN ${DUE_SQL}`).all(200, 100).map((row) => row.detail);
    // One step, a search of the index: no scan of the table, no temporary b-tree to sort in.
    expect(plan).toHaveLength(1);
    expect(plan[0]).toMatch(/^SEARCH oaas_objects USING INDEX oaas_objects_wake \(.*wake_at<\?\)$/);
    expect(db.prepare<[], number>('SELECT count(*) FROM oaas_objects INDEXED BY oaas_objects_wake WHERE wake_at IS NOT NULL').pluck().get()).toBe(2);
    expect(await store.due(200)).toEqual([{ key: key('soon'), wakeAt: 100, version: 1 }]);
  });

  it('refuses a database with another schema version', async () => {
    const first = makeStore();
    await first.open();
    await first.close();
    raw().prepare("UPDATE oaas_meta SET value = '99' WHERE key = 'schema_version'").run();
    const store = makeStore();
    for (const call of [() => store.open(), () => store.get(key('a'))]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(false);
      expect((error as StoreError).message).toMatch(/schema version 99.*supports schema version 2/);
    }
  });

  it('maps a busy database to a transient StoreError', async () => {
    const store = makeStore({ busyTimeoutMs: 50 });
    await store.open();
    const holder = raw();
    holder.exec('BEGIN EXCLUSIVE');
    const error = await rejection(store.apply([{ kind: 'put', key: key('a') }]));
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(true);
    expect((error as StoreError).message).toContain('apply');
    expect(((error as StoreError).cause as { code?: unknown }).code).toBe('SQLITE_BUSY');
    holder.exec('ROLLBACK');
    expect(await store.apply([{ kind: 'put', key: key('a') }])).toEqual([1]);
  });

  it('maps other driver failures to a non-transient StoreError naming the operation', async () => {
    const missingFolder = makeStore({ path: join(dir, 'no', 'such', 'folder', 'state.db') });
    const error = await rejection(missingFolder.open());
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).transient).toBe(false);
    expect((error as StoreError).message).toMatch(/^sqlite open failed/);
    expect((error as StoreError).cause).toBeInstanceOf(Error);

    await writeFile(path, 'this is not a database, just some text that is long enough to have a header');
    const notADatabase = await rejection(makeStore().get(key('a')));
    expect(notADatabase).toBeInstanceOf(StoreError);
    expect((notADatabase as StoreError).transient).toBe(false);
    expect(((notADatabase as StoreError).cause as { code?: unknown }).code).toBe('SQLITE_NOTADB');
  });

  it('refuses bad options', () => {
    expect(() => new SqliteStore({ path: '' })).toThrow(InvalidArgumentError);
    expect(() => new SqliteStore({ path, synchronous: 'off' as 'full' })).toThrow(InvalidArgumentError);
    expect(() => new SqliteStore({ path, busyTimeoutMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => new SqliteStore({ path, busyTimeoutMs: 1.5 })).toThrow(InvalidArgumentError);
  });

  it('refuses an op that both sets and removes one entry', async () => {
    const store = makeStore();
    const op = { kind: 'put', key: key('a'), set: new Map([['x', bytes('1')]]), remove: ['x'] } as const;
    await expect(store.apply([op])).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await store.get(key('a'))).toBeUndefined();
  });
});

describe('SqliteStore crash safety', () => {
  const writer = fileURLToPath(new URL('./fixtures/sqlite-writer.ts', import.meta.url));
  const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

  /** Runs the writer until `killAfterMs` after it is ready, SIGKILLs its whole process group, returns the printed batch numbers. */
  async function runAndKill(path: string, tag: string, killAfterMs: number): Promise<number[]> {
    // tsx runs the script in a child process of its own, so kill the group, not just the leader.
    const child = spawn(process.execPath, [tsxCli, writer, path, tag], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const closed = once(child, 'close');
    const started = Date.now();
    while (!stdout.includes('ready\n')) {
      if (child.exitCode !== null || Date.now() - started > 10_000) expect.fail(`writer did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, killAfterMs));
    process.kill(-(child.pid ?? 0), 'SIGKILL');
    await closed;
    return stdout.split('\n').filter((line) => /^\d+$/.test(line)).map(Number);
  }

  it('keeps every acknowledged batch whole after SIGKILL, and no batch torn', { timeout: 30_000 }, async () => {
    const dir = await tempDir();
    const path = join(dir, 'crash.db');
    let acknowledged = 0;
    try {
      for (let trial = 0; trial < 3; trial += 1) {
        const tag = `t${trial}`;
        const printed = await runAndKill(path, tag, 100 + Math.floor(Math.random() * 400));
        acknowledged += printed.length;

        const store = new SqliteStore({ path });
        const groups = new Map<number, string[]>();
        let cursor: string | undefined;
        do {
          const page = await store.list('crash', 0, { prefix: `${tag}-`, limit: 1000, cursor });
          for (const { objectId } of page.objects) {
            const [, n, i] = objectId.split('-');
            const members = groups.get(Number(n)) ?? [];
            members.push(i ?? '?');
            groups.set(Number(n), members);
          }
          cursor = page.nextCursor;
        } while (cursor !== undefined);

        const present = [...groups.keys()].sort((a, b) => a - b);
        for (const [n, members] of groups) expect(members, `batch ${n} of ${tag} is torn`).toEqual(['0', '1', '2']);
        // Batches commit in order: what is present is 0..max, covering every printed batch and at most one more.
        const lastPrinted = printed.at(-1) ?? -1;
        expect(present).toEqual(Array.from({ length: present.length }, (_, i) => i));
        expect(present.length - 1).toBeGreaterThanOrEqual(lastPrinted);
        expect(present.length - 1).toBeLessThanOrEqual(lastPrinted + 1);
        const sample = await store.get({ clsId: 'crash', partitionId: 0, objectId: `${tag}-${String(lastPrinted).padStart(6, '0')}-2` });
        if (lastPrinted >= 0) expect(new TextDecoder().decode(sample?.entries.get('batch'))).toBe(String(lastPrinted));
        await store.close();
      }
      expect(acknowledged).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
