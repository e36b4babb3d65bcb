/**
 * The PostgreSQL backend against a real, throw-away server (see
 * `test/servers/postgres-server.ts`): the store contract, then what only a
 * shared SQL database can show (isolation levels, round trips, racing
 * processes, schema creation, outages). Skipped, with one line saying why,
 * where no PostgreSQL binaries are installed.
 */
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, isRetryable, StoreError } from '../../src/errors.js';
import { isSerializationFailure, isTransient, translateError } from '../../src/stores/postgres/errors.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/stores/postgres/postgres-store.js';
import { SQL } from '../../src/stores/postgres/schema.js';
import { boolArray, int4Array, int8Array, textArray } from '../../src/stores/postgres/binary-arrays.js';
import { TRUSTED_BATCH, type ObjectKey, type StoreChange, type TrustedPut, type WriteOp } from '../../src/stores/store.js';
import { postgresUnavailableReason } from '../servers/postgres-server.js';
import { postgresForSuite } from '../support/postgres-suite.js';
import { describeStoreContract } from './store-contract.js';
import { rejection } from '../support/promises.js';

const unavailable = postgresUnavailableReason();
if (unavailable !== undefined) console.log(`postgres store suites skipped: ${unavailable}`);

const key = (objectId: string): ObjectKey => ({ clsId: 'cls', partitionId: 0, objectId });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value));
const put = (objectId: string, more: Partial<Omit<WriteOp & { kind: 'put' }, 'kind' | 'key'>> = {}): WriteOp => ({ kind: 'put', key: key(objectId), ...more });
/** A put as the SDK's commits build it: the whole state as one document, the wake time left as it is. */
const sdkPut = (objectId: string, expectedVersion: number, state: string): TrustedPut => {
  const members = Object.entries(JSON.parse(state) as Record<string, unknown>);
  return { kind: 'put', key: key(objectId), expectedVersion, state, entryCount: members.length, hint: undefined, set: new Map(members.map(([k, v]) => [k, bytes(JSON.stringify(v))])) };
};
const setOf = (entries: Record<string, string>): Map<string, Uint8Array> => new Map(Object.entries(entries).map(([k, v]) => [k, bytes(v)]));


/** Empties the store's tables, if there are any yet. */
async function wipe(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // Entries go with their objects (ON DELETE CASCADE).
    await client.query("DO $$ BEGIN IF to_regclass('oaas_objects') IS NOT NULL THEN DELETE FROM oaas_objects; END IF; END $$");
  } finally {
    await client.end();
  }
}

/** A pool that logs every statement its clients run, and the isolation level each transaction really got. */
function instrumentedPool(url: string): { pool: pg.Pool; statements: string[]; isolations: string[] } {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined); // idle clients may still report the server going away after end()
  const statements: string[] = [];
  const isolations: string[] = [];
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as unknown as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const sql = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: unknown }).text);
      statements.push(sql);
      if (!sql.startsWith('BEGIN ISOLATION')) return original(...args);
      return (original(...args) as Promise<pg.QueryResult>).then(async (result) => {
        const shown = (await original('SHOW transaction_isolation')) as pg.QueryResult<{ transaction_isolation: string }>;
        isolations.push(shown.rows[0]?.transaction_isolation ?? '?');
        return result;
      });
    };
  });
  return { pool, statements, isolations };
}

describe('postgres error translation', () => {
  it('marks connection loss, shutdowns and timeouts transient, everything else not', () => {
    const socket = (code: string): Error => Object.assign(new Error(`connect ${code}`), { code });
    const server = (code: string): Error => Object.assign(new Error(`server says ${code}`), { code, severity: 'ERROR' });
    for (const error of [socket('ECONNREFUSED'), socket('ECONNRESET'), server('57P01'), server('57P03'), server('08006'), server('57014'),
      new Error('Connection terminated unexpectedly'), new Error('timeout exceeded when trying to connect'), new AggregateError([socket('ECONNREFUSED')], '')]) {
      expect(isTransient(error), error.message).toBe(true);
    }
    for (const error of [server('42P01'), server('23505'), server('22021'), socket('ENOENT'), new Error('boom')]) {
      expect(isTransient(error), error.message).toBe(false);
    }
    expect([server('40001'), server('40P01'), server('23505'), socket('EPIPE')].map(isSerializationFailure)).toEqual([true, true, false, false]);
    const translated = translateError('get', server('57P01'));
    expect(translated).toBeInstanceOf(StoreError);
    expect(translated.message).toBe('postgres get failed: server says 57P01 (57P01)');
    expect((translated as StoreError).cause).toBeInstanceOf(Error);
    const conflict = new ConflictError([]);
    expect(translateError('apply', conflict)).toBe(conflict);
  });

  it('refuses bad options', () => {
    expect(() => new PostgresStore({ url: '' })).toThrow(InvalidArgumentError);
    expect(() => new PostgresStore({ url: 'postgres://x', poolSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => new PostgresStore({ url: 'postgres://x', connectTimeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => new PostgresStore({ url: 'postgres://x', statementTimeoutMs: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => new PostgresStore({ url: 'postgres://x', pool: {} as pg.Pool })).toThrow(InvalidArgumentError);
    expect(new PostgresStore({ url: 'postgres://x' }).poolStats()).toEqual({ total: 0, idle: 0, waiting: 0 });
  });
});

describe.skipIf(unavailable !== undefined)('postgres', () => {
  const server = postgresForSuite();

  describe('contract', () => {
    // One database, emptied after each test: CREATE DATABASE costs fsyncs that slow a busy machine down.
    // Schema creation on fresh databases is covered below.
    let url: string;
    beforeAll(async () => {
      url = await server().createDatabase();
    });
    describeStoreContract('postgres', () => Promise.resolve({ store: new PostgresStore({ url, poolSize: 4 }), cleanup: () => wipe(url) }));
  });

  describe('PostgresStore', () => {
    let url: string;
    const stores: PostgresStore[] = [];
    const pools: pg.Pool[] = [];
    const clients: pg.Client[] = [];

    const makeStore = (options: Partial<PostgresStoreOptions> = {}): PostgresStore => {
      const store = new PostgresStore({ url, poolSize: 4, ...options });
      stores.push(store);
      return store;
    };
    const instrumented = (): ReturnType<typeof instrumentedPool> => {
      const made = instrumentedPool(url);
      pools.push(made.pool);
      return made;
    };
    /** A plain connection to the test database, for setting up what the store must then cope with. */
    const admin = async (): Promise<pg.Client> => {
      const client = new pg.Client({ connectionString: url });
      clients.push(client);
      await client.connect();
      return client;
    };
    /** Waits (bounded) until some backend of this database waits for a lock. */
    const untilBlocked = async (client: pg.Client): Promise<void> => {
      for (const started = Date.now(); Date.now() - started < 10_000; await new Promise((r) => setTimeout(r, 10))) {
        const { rows } = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        if ((rows[0]?.n ?? 0) > 0) return;
      }
      expect.fail('no backend started waiting for a lock');
    };

    beforeAll(async () => {
      url = await server().createDatabase();
    });

    afterEach(async () => {
      for (const client of clients.splice(0)) await client.end().catch(() => undefined);
      for (const store of stores.splice(0)) await store.close().catch(() => undefined);
      for (const pool of pools.splice(0)) await pool.end();
      await wipe(url);
    });

    it('finds due objects by a scan of the partial wake index, in its order (no sort), among many objects without a wake time', async () => {
      const store = makeStore();
      await store.apply([put('late', { wakeAt: 300 }), put('soon', { wakeAt: 100 })]);
      const client = await admin();
      await client.query(`INSERT INTO oaas_objects (cls_id, partition_id, object_id, version, state, entry_count)
        SELECT 'cls', 0, 'plain-' || i, 1, '{}', 0 FROM generate_series(1, 20000) AS i`);
      await client.query('ANALYZE oaas_objects');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${SQL.due}`, [200, 100]);
      const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using oaas_objects_wake on oaas_objects/);
      expect(plan).not.toMatch(/Sort|Seq Scan/);
      expect(await store.due(200)).toEqual([{ key: key('soon'), wakeAt: 100, version: 1 }]);
    });

    it('runs each batch at the isolation level it asks for', async () => {
      const { pool, isolations } = instrumented();
      const store = makeStore({ pool });
      await store.apply([put('default')]);
      for (const isolation of ['read-committed', 'repeatable-read', 'serializable'] as const) {
        await store.apply([put(isolation)], { isolation });
      }
      expect(isolations).toEqual(['read committed', 'read committed', 'repeatable read', 'serializable']);
    });

    it('writes a batch of 200 objects in a small, constant number of statements', async () => {
      const { pool, statements } = instrumented();
      const store = makeStore({ pool });
      await store.open();
      const count = async (ops: WriteOp[]): Promise<number> => {
        statements.length = 0;
        await store.apply(ops);
        return statements.length;
      };
      const ids = Array.from({ length: 200 }, (_, i) => `obj-${String(i).padStart(3, '0')}`);
      const created = await count(ids.map((id) => put(id, { expectedVersion: 0, set: setOf({ a: id, b: 'x' }) })));
      // 100 updates (set one entry, remove another), 50 deletes, 50 creations: every kind of statement at once.
      const mixed = (n: number, tag: string): WriteOp[] => [
        ...ids.slice(0, n / 2).map((id) => put(id, { expectedVersion: 1, set: setOf({ a: tag }), remove: ['b'] })),
        ...ids.slice(n / 2, (3 * n) / 4).map((id): WriteOp => ({ kind: 'delete', key: key(id), expectedVersion: 1 })),
        ...Array.from({ length: n / 4 }, (_, i) => put(`${tag}-${i}`, { set: setOf({ a: tag }) })),
      ];
      const big = await count(mixed(200, 'big'));
      expect(created).toBeLessThanOrEqual(7);
      expect(big).toBeLessThanOrEqual(7);
      await store.apply(['t0', 't1', 't2', 't3'].map((id) => put(id, { set: setOf({ b: '1' }) })));
      statements.length = 0;
      await store.apply([put('t0', { expectedVersion: 1, set: setOf({ a: 'small' }), remove: ['b'] }), put('t1', { expectedVersion: 1 }), { kind: 'delete', key: key('t2'), expectedVersion: 1 }, put('small-0')]);
      expect(statements.length).toBe(big);

      const [updated, deleted, fresh] = await store.getMany([key('obj-000'), key('obj-100'), key('big-3')]);
      expect(updated?.version).toBe(2);
      expect(Object.fromEntries([...(updated?.entries ?? [])].map(([k, v]) => [k, text(v)]))).toEqual({ a: 'big' });
      expect(deleted).toBeUndefined();
      expect(fresh?.version).toBe(1);
      expect((await store.list('cls', 0, { limit: 1000 })).objects).toHaveLength(200 - 50 + 50 + 4 - 1 + 1);
    });

    it('leaves the first object of a batch unchanged when the second conflicts', async () => {
      const store = makeStore();
      await store.apply([put('a', { set: setOf({ x: '1' }) }), put('b', { set: setOf({ y: '1' }) })]);
      const error = await rejection(store.apply([put('a', { expectedVersion: 1, set: setOf({ x: '2' }) }), put('b', { expectedVersion: 5, set: setOf({ y: '2' }) })]));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('b'), expected: 5, actual: 1 }]);
      const [a, b] = await store.getMany([key('a'), key('b')]);
      expect([a?.version, text(a?.entries.get('x'))]).toEqual([1, '1']);
      expect([b?.version, text(b?.entries.get('y'))]).toEqual([1, '1']);
    });

    it('lets two processes create the schema of a fresh database at the same moment', async () => {
      for (let round = 0; round < 5; round += 1) {
        const fresh = await server().createDatabase();
        const [first, second] = [makeStore({ url: fresh }), makeStore({ url: fresh })];
        await Promise.all([first.open(), second.open()]);
        expect(await first.apply([put('a', { expectedVersion: 0 })])).toEqual([1]);
        expect(await second.apply([put('a', { expectedVersion: 1 })])).toEqual([2]);
        await first.close();
        await second.close();
        await server().dropDatabase(fresh);
      }
    });

    it('refuses a database with another schema version', async () => {
      const first = makeStore();
      await first.open();
      await first.close();
      const client = await admin();
      await client.query("UPDATE oaas_meta SET value = '99' WHERE key = 'schema_version'");
      try {
        const store = makeStore();
        for (const call of [() => store.open(), () => store.get(key('a'))]) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).transient).toBe(false);
          expect((error as StoreError).message).toMatch(/schema version 99.*supports schema version 2/);
        }
      } finally {
        await client.query("UPDATE oaas_meta SET value = '2' WHERE key = 'schema_version'");
      }
    });

    it('lets exactly one of two processes win conflicting batches, at every isolation level', async () => {
      const [one, two] = [makeStore(), makeStore()];
      await one.apply([put('a'), put('b')]);
      let version = 1;
      for (const isolation of ['read-committed', 'repeatable-read', 'serializable'] as const) {
        for (let round = 0; round < 10; round += 1) {
          // The two batches name the objects in opposite orders: they must queue, not deadlock.
          const results = await Promise.allSettled([
            one.apply([put('a', { expectedVersion: version, set: setOf({ by: 'one' }) }), put('b', { expectedVersion: version })], { isolation }),
            two.apply([put('b', { expectedVersion: version, set: setOf({ by: 'two' }) }), put('a', { expectedVersion: version })], { isolation }),
          ]);
          const lost = results.filter((r) => r.status === 'rejected');
          expect(results.filter((r) => r.status === 'fulfilled'), isolation).toHaveLength(1);
          expect(lost[0]?.reason, isolation).toBeInstanceOf(ConflictError);
          for (const c of (lost[0]?.reason as ConflictError).conflicts) expect(c.actual).toBe(version + 1);
          version += 1;
        }
      }
      const [a, b] = await one.getMany([key('a'), key('b')]);
      expect([a?.version, b?.version]).toEqual([version, version]);
    });

    it('reports a creation that meets a concurrent creation as a conflict, and lets an unchecked put build on it', async () => {
      const store = makeStore({ poolSize: 2 });
      await store.open();
      const other = await admin();
      await other.query('BEGIN');
      await other.query("INSERT INTO oaas_objects VALUES ('cls', 0, 'x', 1, '{}', NULL, 0), ('cls', 0, 'y', 1, '{}', NULL, 0)");
      const checked = rejection(store.apply([put('x', { expectedVersion: 0, set: setOf({ n: 'mine' }) })]));
      const unchecked = store.apply([put('y', { set: setOf({ n: 'mine' }) })]);
      await untilBlocked(other);
      await other.query('COMMIT');
      const error = await checked;
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('x'), expected: 0, actual: 1 }]);
      expect(await unchecked).toEqual([2]);
      const [x, y] = await store.getMany([key('x'), key('y')]);
      expect([x?.version, x?.entries.size]).toEqual([1, 0]);
      expect([y?.version, text(y?.entries.get('n'))]).toEqual([2, 'mine']);
    });

    it('turns a serialization failure into a conflict with the versions found after the rollback, even with one connection', async () => {
      const store = makeStore({ poolSize: 1, connectTimeoutMs: 2000 });
      await store.apply([put('x'), put('y')]);
      const other = await admin();
      await other.query('BEGIN');
      await other.query("UPDATE oaas_objects SET version = 2 WHERE object_id = 'x'");
      const pending = rejection(store.apply([put('x', { expectedVersion: 1 }), put('y')], { isolation: 'repeatable-read' }));
      await untilBlocked(other);
      await other.query('COMMIT');
      const error = await pending;
      expect(error).toBeInstanceOf(ConflictError);
      expect(((error as ConflictError).cause as { code?: unknown }).code).toBe('40001');
      expect((error as ConflictError).conflicts).toEqual([
        { ref: key('x'), expected: 1, actual: 2 },
        { ref: key('y'), expected: 1, actual: 1 },
      ]);
      expect(await store.apply([put('x', { expectedVersion: 2 }), put('y')], { isolation: 'repeatable-read' })).toEqual([3, 2]);
    });

    it('gives a transient StoreError when a statement runs past statementTimeoutMs', async () => {
      const store = makeStore({ statementTimeoutMs: 200 });
      await store.apply([put('x')]);
      const other = await admin();
      await other.query('BEGIN');
      await other.query("UPDATE oaas_objects SET version = 1 WHERE object_id = 'x'");
      const error = await rejection(store.apply([put('x', { expectedVersion: 1 })]));
      await other.query('ROLLBACK');
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(true);
      expect(((error as StoreError).cause as { code?: unknown }).code).toBe('57014');
      expect(await store.apply([put('x', { expectedVersion: 1 })])).toEqual([2]);
    });

    it('refuses what PostgreSQL cannot store with InvalidArgumentError', async () => {
      const store = makeStore();
      await expect(store.get(key('a\u0000b'))).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.get({ clsId: 'cls', partitionId: 2 ** 31, objectId: 'a' })).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.apply([put('a', { set: setOf({ 'k\u0000': 'v' }) })])).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(store.list('cls', 0, { prefix: '\u0000' })).rejects.toBeInstanceOf(InvalidArgumentError);
      const cursor = Buffer.from('a\u0000', 'utf8').toString('base64url');
      await expect(store.list('cls', 0, { cursor })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await store.apply([put('a', { set: setOf({ k: 'v' }) }), put('b'), { kind: 'put', key: { clsId: 'cls', partitionId: 2 ** 31 - 1, objectId: 'a' } }])).toEqual([1, 1, 1]);
    });

    it('updates the rows of the SDK\'s batches in place (HOT: the new version on the old one\'s page), batch after batch, in a table with a fillfactor', async () => {
      const store = makeStore();
      const ids = Array.from({ length: 500 }, (_, i) => `obj-${String(i).padStart(3, '0')}`);
      const batch = (version: number): WriteOp[] => ids.map((id) => sdkPut(id, version, `{"count":${version},"name":"${id}"}`));
      await store.apply(batch(0), { [TRUSTED_BATCH]: true });
      const client = await admin();
      expect((await client.query<{ options: string[] }>("SELECT reloptions AS options FROM pg_class WHERE relname = 'oaas_objects'")).rows[0]?.options).toEqual(['fillfactor=50']);
      const pages = async (): Promise<string[]> => (await client.query<{ page: string }>("SELECT split_part(trim(both '()' from ctid::text), ',', 1) AS page FROM oaas_objects ORDER BY object_id")).rows.map((r) => r.page);
      let before = await pages();
      expect(new Set(before).size).toBeGreaterThan(5);
      for (let version = 1; version <= 4; version++) {
        expect(await store.apply(batch(version), { [TRUSTED_BATCH]: true })).toEqual(ids.map(() => version + 1));
        const after = await pages();
        // Nearly every row: once pruned, the old versions' line pointers stay behind (redirects), so a page that is
        // rewritten whole has a few rows' worth too little room the second time; those move once, then stay.
        expect(after.filter((page, i) => page === before[i]).length).toBeGreaterThanOrEqual(0.9 * ids.length);
        before = after;
      }
      expect(text((await store.get(key(ids[7]!)))?.entries.get('count'))).toBe('4');
    });

    it('sends the SDK\'s columns as binary arrays that the server reads back exactly', async () => {
      const client = await admin();
      const strings = ['', 'plain', 'zoë-✓ 🎉', '"quoted" \\back\\slash', '{braces},comma', 'NULL', ' spaced ', 'x'.repeat(5000)];
      const big = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), 1_700_000_000_123];
      const { rows } = await client.query<{ t: string[]; b: string[]; n: string[] | null; i: number[]; f: boolean[] }>(
        'SELECT $1::text[] AS t, $2::int8[]::text[] AS b, $3::int8[]::text[] AS n, $4::int4[] AS i, $5::bool[] AS f',
        [textArray(strings), int8Array(big), int8Array([null, 5, null]), int4Array([0, -7, 2 ** 31 - 1, -(2 ** 31)]), boolArray([true, false, true])],
      );
      expect(rows[0]).toEqual({ t: strings, b: big.map(String), n: [null, '5', null], i: [0, -7, 2 ** 31 - 1, -(2 ** 31)], f: [true, false, true] });
      const empty = await client.query<{ t: string[]; n: number }>('SELECT $1::text[] AS t, cardinality($1::text[]) AS n', [textArray([])]);
      expect(empty.rows[0]).toEqual({ t: [], n: 0 });
    });

    it('tells another store instance of the SDK\'s batches with the versions they wrote', async () => {
      const [writer, reader] = [makeStore(), makeStore()];
      const heard: StoreChange[] = [];
      const stop = await reader.subscribe((changes) => heard.push(...changes));
      await writer.apply([sdkPut('a', 0, '{"n":1}'), sdkPut('b', 0, '{"n":1}')], { [TRUSTED_BATCH]: true });
      await writer.apply([sdkPut('b', 1, '{"n":2}'), sdkPut('c', 0, '{"n":1}'), { kind: 'delete', key: key('a'), expectedVersion: 1 }], { [TRUSTED_BATCH]: true });
      for (let i = 0; i < 500 && heard.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard.map((c) => [c.key.objectId, c.kind, c.version])).toEqual([['a', 'create', 1], ['b', 'create', 1], ['b', 'update', 2], ['c', 'create', 1], ['a', 'delete', 2]]);
      await stop();
    });

    it('reports pool statistics, and leaves an injected pool open on close', async () => {
      const { pool } = instrumented();
      const store = makeStore({ pool });
      await store.open();
      const stats = store.poolStats();
      expect(stats.total).toBeGreaterThanOrEqual(1);
      expect(stats.idle).toBe(stats.total);
      expect(stats.waiting).toBe(0);
      await store.close();
      expect(store.poolStats()).toEqual({ total: 0, idle: 0, waiting: 0 });
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });

    // Stops the shared server, so it runs last.
    it('fails with a transient StoreError while the server is down and works again once it is back', async () => {
      const store = makeStore({ connectTimeoutMs: 2000 });
      await store.apply([put('a', { set: setOf({ x: '1' }) })]);
      await server().stop();
      try {
        for (const call of [() => store.get(key('a')), () => store.apply([put('a', { expectedVersion: 1 })]), () => store.list('cls', 0)]) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).transient).toBe(true);
          expect(isRetryable(error)).toBe(true);
          expect((error as StoreError).message).not.toContain(url);
        }
      } finally {
        await server().start();
      }
      expect(await store.apply([put('a', { expectedVersion: 1, set: setOf({ x: '2' }) })])).toEqual([2]);
      expect(text((await store.get(key('a')))?.entries.get('x'))).toBe('2');
    });
  });
});
