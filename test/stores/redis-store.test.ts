import { randomBytes } from 'node:crypto';
import { Redis, ReplyError as UntypedReplyError } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, StoreError } from '../../src/errors.js';
import { slotOf } from '../../src/cluster/slots.js';
import { translateError } from '../../src/stores/redis/errors.js';
import { RedisMembership } from '../../src/stores/redis/membership.js';
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/redis-store.js';
import { KeyLayout, applyArguments } from '../../src/stores/redis/scripts.js';
import { keyOfMember, wakeMember } from '../../src/stores/redis/wakes.js';
import { TRUSTED_BATCH, type ObjectKey, type StoreChange, type TrustedPut, type WriteOp } from '../../src/stores/store.js';
import { putsScript } from '../../src/stores/redis/puts-script.js';
import { redisUnavailableReason, startRedis, type RedisServer } from '../servers/redis-server.js';
import { describeStoreContract } from './store-contract.js';
import { rejection } from '../support/promises.js';

const unavailable = await redisUnavailableReason();
if (unavailable !== undefined) console.log(`redis store suites skipped: ${unavailable}`);

/** ioredis types its ReplyError export as `any`; it is an Error subclass named 'ReplyError'. */
const ReplyError = UntypedReplyError as new (message: string) => Error;

const key = (objectId: string, clsId = 'cls', partitionId = 0): ObjectKey => ({ clsId, partitionId, objectId });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value));
const put = (k: ObjectKey, set: Record<string, string> = {}, expectedVersion?: number): WriteOp => ({
  kind: 'put',
  key: k,
  expectedVersion,
  set: new Map(Object.entries(set).map(([name, value]) => [name, bytes(value)])),
});
/** A put that sets (a number) or clears (null) the object's wake time; `state` makes it one of the SDK's. */
const wakePut = (k: ObjectKey, wakeAt: number | null, expectedVersion?: number, state?: string): WriteOp => ({
  kind: 'put',
  key: k,
  expectedVersion,
  wakeAt,
  ...(state === undefined ? {} : { state, entryCount: 0 }),
});


function expectStoreError(error: unknown, transient: boolean): void {
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).code).toBe('OAAS_ERR_STORE_FAILED');
  expect((error as StoreError).transient).toBe(transient);
}

describe('redis error translation', () => {
  it('marks unreachable, restarting and busy servers transient, and keeps the cause', () => {
    const transient = [
      new ReplyError('LOADING Redis is loading the dataset in memory'),
      new ReplyError("READONLY You can't write against a read only replica."),
      new ReplyError('CLUSTERDOWN The cluster is down'),
      new ReplyError('TRYAGAIN Multiple keys request during rehashing of slot'),
      new ReplyError('BUSY Redis is busy running a script.'),
      new ReplyError("ERR Error running script (call to f_1): @user_script:1: -READONLY You can't write against a read only replica."),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection is closed.'),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      new Error('Command timed out'),
    ];
    for (const cause of transient) {
      const error = translateError('get', cause);
      expectStoreError(error, true);
      expect((error as StoreError).cause).toBe(cause);
      expect(error.message).toMatch(/^redis get failed: /);
    }
    for (const cause of [new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'), new ReplyError('BUSYKEY Target key name already exists.'), new Error('boom'), 'text']) {
      expectStoreError(translateError('apply', cause), false);
    }
    const conflict = new ConflictError([]);
    expect(translateError('apply', conflict)).toBe(conflict);
  });
});

describe('redis wake set', () => {
  it('orders members as due() orders keys (class, partition as a number, object id, by bytes), U+0000 and all, and reads each key back', () => {
    // In the order due() promises; a member of each must sort the same way by its bytes, as Redis sorts members of one score.
    const ordered = [
      key('x', 'a', 0), key('x\u0000', 'a', 0), key('x\u0000\u0000', 'a', 0), key('x\u0001', 'a', 0), key('xy', 'a', 0), key('é', 'a', 0), key('😀', 'a', 0),
      key('x', 'a', 2), key('x', 'a', 10), key('x', 'a', 2_147_483_647),
      key('a', 'a\u0000', 0), key('a', 'a\u0000b', 0), key('a', 'a\u0001', 0), key('a', 'ab', 0), key('a', 'b{:}%', 0),
    ];
    const layout = new KeyLayout('p');
    const shuffled = [...ordered].reverse().sort(() => Math.random() - 0.5);
    const members = shuffled.map((k) => wakeMember(k, layout.object(k))).sort(Buffer.compare);
    expect(members.map(keyOfMember)).toEqual(ordered);
  });

  it('names the wake set only in batches that set or clear a wake time or delete, always as the last key', () => {
    const layout = new KeyLayout('p');
    const fence = { memberId: 'm', slots: [{ slot: slotOf(key('a')), epoch: 1 }] };
    const keysOf = (ops: WriteOp[], withFence = false): string[] => applyArguments(layout, ops, withFence ? fence : undefined).keys;
    expect(keysOf([put(key('a')), { kind: 'put', key: key('a'), wakeAt: undefined }])).not.toContain('p:wake');
    for (const op of [{ kind: 'put', key: key('a'), wakeAt: 5 }, { kind: 'put', key: key('a'), wakeAt: null }, { kind: 'delete', key: key('a') }] as WriteOp[]) {
      expect(keysOf([op]).at(-1)).toBe('p:wake');
      expect(keysOf([op], true).slice(-3)).toEqual(['p:cluster:members', 'p:cluster:slots', 'p:wake']);
      // Odd exactly when the wake set is there: the script finds it by that.
      expect(keysOf([op]).length % 2).toBe(1);
      expect(keysOf([op], true).length % 2).toBe(1);
    }
    expect(keysOf([put(key('a'))], true).length % 2).toBe(0);
  });
});

describe.skipIf(unavailable !== undefined)('redis', () => {
  let server: RedisServer;
  let admin: Redis;
  let prefixes = 0;
  const freshPrefix = (): string => `t${process.pid}-${(prefixes += 1)}`;

  beforeAll(async () => {
    const started = await startRedis();
    if (started === undefined) throw new Error(`redis-server vanished: ${(await redisUnavailableReason()) ?? 'unknown reason'}`);
    server = started;
    admin = new Redis(server.url, { lazyConnect: true });
    admin.on('error', () => undefined); // outage tests take the server away on purpose
    await admin.connect();
  });

  afterAll(async () => {
    admin?.disconnect();
    await server?.destroy();
  });

  describeStoreContract('redis', () => Promise.resolve({ store: new RedisStore({ url: server.url, keyPrefix: freshPrefix() }) }));

  describe('RedisStore', () => {
    const opened: RedisStore[] = [];
    const makeStore = (options: Partial<RedisStoreOptions> = {}): RedisStore => {
      const store = new RedisStore({ url: server.url, keyPrefix: freshPrefix(), ...options });
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    /** Calls `attempt` until it resolves, for at most `timeoutMs`. */
    async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
      const started = Date.now();
      for (;;) {
        try {
          return await attempt();
        } catch (error) {
          if (Date.now() - started > timeoutMs) throw error;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }

    it('keeps the documented layout: one hash per object, a lexical index, a schema version', async () => {
      const store = makeStore({ keyPrefix: 'layout' });
      await store.apply([put(key('a'), { x: '1' }), put(key('b', 'c:l{a}ss', 3))]);
      expect(await admin.hget('layout:meta', 'schema_version')).toBe('1');
      expect(await admin.type('layout:o:{cls:0}:a')).toBe('hash');
      expect(await admin.hget('layout:o:{cls:0}:a', 'x')).toBe('1');
      expect((await admin.hgetBuffer('layout:o:{cls:0}:a', Buffer.from([0xff])))?.toString()).toBe('1');
      expect(await admin.zrange('layout:i:{cls:0}', 0, -1, 'WITHSCORES')).toEqual(['a', '0']);
      expect(await admin.exists('layout:o:{c%3Al%7Ba%7Dss:3}:b')).toBe(1);
      expect(await admin.zrange('layout:i:{c%3Al%7Ba%7Dss:3}', 0, -1)).toEqual(['b']);
    });

    it('keeps wake times in one sorted set scored by wake time, written with the objects by every kind of batch', async () => {
      const prefix = freshPrefix();
      const store = makeStore({ keyPrefix: prefix });
      const wakes = async (): Promise<[string, number][]> => {
        const flat = await admin.zrangeBuffer(`${prefix}:wake`, 0, -1, 'WITHSCORES');
        const pairs: [string, number][] = [];
        for (let i = 0; i < flat.length; i += 2) pairs.push([keyOfMember(flat[i]!).objectId, Number(flat[i + 1]!.toString())]);
        return pairs;
      };
      await store.apply([wakePut(key('a'), 20), wakePut(key('b'), 10), put(key('c'))]);
      expect(await wakes()).toEqual([['b', 10], ['a', 20]]);
      // The SDK's own batches.
      await store.apply([wakePut(key('c'), 5, 1, '{}'), wakePut(key('b'), null, 1, '{}')], { [TRUSTED_BATCH]: true });
      expect(await wakes()).toEqual([['c', 5], ['a', 20]]);
      // Fenced batches (cluster mode): the wake set comes after the fence's keys.
      const membership = new RedisMembership({ url: server.url, keyPrefix: prefix });
      try {
        const incarnation = await membership.join({ id: 'm', url: 'http://m.test' }, 60_000);
        const leases = await membership.acquire('m', incarnation, [slotOf(key('a')), slotOf(key('c'))], 60_000);
        const fence = { memberId: 'm', slots: (leases ?? []).map(({ slot, epoch }) => ({ slot, epoch })) };
        await store.apply([wakePut(key('a'), 30, 1)], { fence });
        expect(await wakes()).toEqual([['c', 5], ['a', 30]]);
        await store.apply([{ kind: 'delete', key: key('c'), expectedVersion: 2 }], { fence });
        expect(await wakes()).toEqual([['a', 30]]);
      } finally {
        await membership.close();
      }
      expect(await store.due(100)).toEqual([{ key: key('a'), wakeAt: 30, version: 2 }]);
    });

    it('writes nothing of a batch when the wake set key holds something else, and says so', async () => {
      const prefix = freshPrefix();
      await admin.set(`${prefix}:wake`, 'not a sorted set');
      const store = makeStore({ keyPrefix: prefix });
      const error = await rejection(store.apply([put(key('a')), wakePut(key('b'), 1)]));
      expectStoreError(error, false);
      expect((error as Error).message).toMatch(/not a wake set/);
      expect(await store.getMany([key('a'), key('b')])).toEqual([undefined, undefined]);
    });

    it('finds due objects whose names hold U+0000, in key order', async () => {
      const store = makeStore();
      const keys = [key('x', 'a\u0000b'), key('x\u0000', 'a'), key('x', 'a'), key('x', 'a\u0000')];
      await store.apply(keys.map((k) => wakePut(k, 7)));
      expect((await store.due(7)).map((o) => o.key)).toEqual([key('x', 'a'), key('x\u0000', 'a'), key('x', 'a\u0000'), key('x', 'a\u0000b')]);
    });

    it('keeps keys apart that a naive layout would merge, and entry keys apart from the version field', async () => {
      const store = makeStore();
      // Unescaped, both would be <prefix>:o:{a:0}:b:1}:c.
      const first = key('b:1}:c', 'a', 0);
      const second = key('c', 'a:0}:b', 1);
      await store.apply([put(first, { n: 'first' }), put(second, { n: 'second' })]);
      const [a, b] = await store.getMany([first, second]);
      expect([text(a?.entries.get('n')), text(b?.entries.get('n'))]).toEqual(['first', 'second']);
      await store.apply([put(key('v'), { '\uFFFD': 'replacement', '\u00FF': 'y-umlaut', ['__proto__']: 'proto' })]);
      const v = await store.get(key('v'));
      expect(v?.version).toBe(1);
      expect([...(v?.entries.keys() ?? [])].sort()).toEqual(['__proto__', '\u00FF', '\uFFFD']);
      expect(text(v?.entries.get('\uFFFD'))).toBe('replacement');
      expect((await store.list('cls', 0)).objects).toEqual([{ objectId: 'v', version: 1, entryCount: 3 }]);
    });

    it('writes the SDK\'s usual batch with the shorter script, and publishes it as the general one would', async () => {
      const prefix = freshPrefix();
      const [w, r] = [makeStore({ keyPrefix: prefix }), makeStore({ keyPrefix: prefix })];
      const heard: StoreChange[] = [];
      const stop = await r.subscribe((changes) => heard.push(...changes));
      const usual = (objectId: string, expectedVersion: number, n: number): TrustedPut => ({
        kind: 'put', key: key(objectId, 'c:l{a}ss', 2), expectedVersion, hint: undefined, appendSetTexts: (into) => (into.push('n', String(n)), 1), set: new Map([['n', bytes(String(n))]]), changed: ['n'],
      });
      await admin.script('FLUSH');
      expect(await w.apply([usual('a', 0, 1), usual('zoë', 0, 1)], { [TRUSTED_BATCH]: true })).toEqual([1, 1]);
      expect(await admin.script('EXISTS', putsScript.sha)).toEqual([1]);
      expect(await w.apply([usual('zoë', 1, 2), usual('b', 0, 1)], { [TRUSTED_BATCH]: true })).toEqual([2, 1]);
      // Not the usual batch (it sets a wake time): the general script.
      expect(await w.apply([{ ...usual('a', 1, 2), wakeAt: 5 }], { [TRUSTED_BATCH]: true })).toEqual([2]);
      expect(await admin.zrange(`${prefix}:i:{c%3Al%7Ba%7Dss:2}`, 0, -1)).toEqual(['a', 'b', 'zoë']);
      for (let i = 0; i < 500 && heard.length < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard.map((c) => [c.key.objectId, c.kind, c.version, c.changed])).toEqual([
        ['a', 'create', 1, ['n']], ['zoë', 'create', 1, ['n']], ['zoë', 'update', 2, ['n']], ['b', 'create', 1, ['n']], ['a', 'update', 2, ['n']],
      ]);
      await stop();
    });

    it('leaves the first object unchanged when the second object of a batch conflicts', async () => {
      const store = makeStore();
      await store.apply([put(key('a'), { x: '1' }), put(key('b'), { y: '1' })]);
      const error = await rejection(store.apply([put(key('a'), { x: '2' }, 1), put(key('b'), { y: '2' }, 5)]));
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as ConflictError).conflicts).toEqual([{ ref: key('b'), expected: 5, actual: 1 }]);
      const a = await store.get(key('a'));
      expect(a?.version).toBe(1);
      expect(text(a?.entries.get('x'))).toBe('1');
      expect((await store.get(key('b')))?.version).toBe(1);
    });

    it('lets exactly one of two conflicting batches from two clients win, every time', async () => {
      const prefix = freshPrefix();
      const one = makeStore({ keyPrefix: prefix });
      const two = makeStore({ keyPrefix: prefix });
      await one.apply([put(key('a'), { by: 'none' }), put(key('b'), { by: 'none' })]);
      for (let version = 1; version <= 25; version += 1) {
        const results = await Promise.allSettled([
          one.apply([put(key('a'), { by: 'one' }, version), put(key('b'), { by: 'one' }, version)]),
          two.apply([put(key('b'), { by: 'two' }, version), put(key('a'), { by: 'two' }, version)]),
        ]);
        const winners = results.flatMap((result, i) => (result.status === 'fulfilled' ? [i === 0 ? 'one' : 'two'] : []));
        expect(winners).toHaveLength(1);
        const loser = results.find((result) => result.status === 'rejected');
        expect(loser?.reason).toBeInstanceOf(ConflictError);
        expect((loser?.reason as ConflictError).conflicts).toHaveLength(2);
        const [a, b] = await two.getMany([key('a'), key('b')]);
        expect([a?.version, b?.version]).toEqual([version + 1, version + 1]);
        expect([text(a?.entries.get('by')), text(b?.entries.get('by'))]).toEqual([winners[0], winners[0]]);
      }
    });

    it('refuses a database with another schema version', async () => {
      const prefix = freshPrefix();
      await admin.hset(`${prefix}:meta`, 'schema_version', '99');
      const store = makeStore({ keyPrefix: prefix });
      for (const call of [() => store.open(), () => store.get(key('a'))]) {
        const error = await rejection(call());
        expectStoreError(error, false);
        expect((error as StoreError).message).toMatch(/schema version 99.*supports schema version 1/);
      }
      expect(await admin.hget(`${prefix}:meta`, 'schema_version')).toBe('99');
    });

    it('fails fast with a transient StoreError while the server is down, and heals when it is back', async () => {
      // Long timeouts, so a call that waited for either instead of failing at once is told apart with a wide margin.
      const timeoutMs = 6000;
      const store = makeStore({ commandTimeoutMs: timeoutMs, connectTimeoutMs: timeoutMs });
      await store.apply([put(key('a'), { x: 'before' })]);
      await server.stop();
      try {
        for (const call of [() => store.get(key('a')), () => store.apply([put(key('a'), { x: 'during' })]), () => store.list('cls', 0), () => store.ping()]) {
          const started = Date.now();
          const error = await rejection(call());
          expect(Date.now() - started).toBeLessThan(timeoutMs / 2);
          expectStoreError(error, true);
          expect((error as StoreError).cause).toBeInstanceOf(Error);
        }
      } finally {
        await server.start();
      }
      const object = await eventually(() => store.get(key('a')));
      expect(object?.version).toBe(1);
      expect(text(object?.entries.get('x'))).toBe('before');
      expect(await store.apply([put(key('a'), { x: 'after' }, 1)])).toEqual([2]);
    });

    it('times out a command on a server that stops answering, as a transient StoreError', async () => {
      const timeoutMs = 200;
      const pauseMs = 2500;
      const store = makeStore({ commandTimeoutMs: timeoutMs });
      await store.open();
      await admin.call('CLIENT', 'PAUSE', String(pauseMs), 'ALL');
      const started = Date.now();
      const error = await rejection(store.get(key('a')));
      // Rejected by the command timeout, well before the pause would have let the reply through.
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 10);
      expect(elapsed).toBeLessThan((timeoutMs + pauseMs) / 2);
      expectStoreError(error, true);
      expect(((error as StoreError).cause as Error).message).toMatch(/timed out/);
      // A timed-out write is ambiguous: the server still holds it and runs it once the pause ends.
      // The expected version is what makes retrying it safe.
      expectStoreError(await rejection(store.apply([put(key('a'), { x: '1' }, 0)])), true);
      await eventually(() => store.ping());
      expect((await store.get(key('a')))?.version).toBe(1);
      const retry = await rejection(store.apply([put(key('a'), { x: '1' }, 0)]));
      expect((retry as ConflictError).conflicts).toEqual([{ ref: key('a'), expected: 0, actual: 1 }]);
    });

    it('keeps every acknowledged write across a crash of the server (appendfsync always)', async () => {
      const prefix = freshPrefix();
      const store = makeStore({ keyPrefix: prefix });
      for (let i = 0; i < 20; i += 1) await store.apply([put(key(`o${String(i).padStart(2, '0')}`), { i: String(i) }), put(key('counter'))]);
      await server.kill();
      await server.start();
      const reopened = makeStore({ keyPrefix: prefix });
      expect((await reopened.get(key('counter')))?.version).toBe(20);
      const page = await reopened.list('cls', 0, { prefix: 'o' });
      expect(page.objects.map((o) => o.objectId)).toEqual(Array.from({ length: 20 }, (_, i) => `o${String(i).padStart(2, '0')}`));
      await eventually(() => store.ping()); // the first store reconnects by itself
    });

    it('round-trips 1 MiB binary values byte-exact', async () => {
      const store = makeStore();
      const values = [randomBytes(1024 * 1024), randomBytes(1024 * 1024), Buffer.alloc(1024 * 1024, 0xff)];
      await store.apply([
        { kind: 'put', key: key('a'), set: new Map([['one', values[0]!], ['two', values[1]!]]) },
        { kind: 'put', key: key('b'), set: new Map([['ff', values[2]!]]) },
      ]);
      const [a, b] = await store.getMany([key('a'), key('b')]);
      expect(Buffer.compare(a?.entries.get('one') ?? new Uint8Array(0), values[0]!)).toBe(0);
      expect(Buffer.compare(a?.entries.get('two') ?? new Uint8Array(0), values[1]!)).toBe(0);
      expect(Buffer.compare(b?.entries.get('ff') ?? new Uint8Array(0), values[2]!)).toBe(0);
      expect(Buffer.isBuffer(b?.entries.get('ff'))).toBe(false);
    });

    it('applies batches too large for one Lua unpack(), and reloads its script after a flush of the script cache', async () => {
      const store = makeStore();
      const many = new Map(Array.from({ length: 3000 }, (_, i): [string, Uint8Array] => [`e${i}`, bytes(String(i))]));
      const ops: WriteOp[] = [{ kind: 'put', key: key('wide'), set: many }, ...Array.from({ length: 2000 }, (_, i) => put(key(`n${i}`), { i: String(i) }, 0))];
      expect(await store.apply(ops)).toEqual(ops.map(() => 1));
      await admin.script('FLUSH');
      const remove = Array.from({ length: 2500 }, (_, i) => `e${i}`);
      expect(await store.apply([{ kind: 'put', key: key('wide'), remove, expectedVersion: 1 }])).toEqual([2]);
      const wide = await store.get(key('wide'));
      expect(wide?.entries.size).toBe(500);
      expect(text(wide?.entries.get('e2999'))).toBe('2999');
      expect((await store.list('cls', 0, { limit: 1000 })).objects).toHaveLength(1000);
    });

    it('measures a round trip with ping()', async () => {
      const store = makeStore();
      await store.open();
      const measure = async (): Promise<{ ms: number; elapsed: number }> => {
        const started = performance.now();
        const ms = await store.ping();
        return { ms, elapsed: performance.now() - started };
      };
      const quick = await measure();
      expect(quick.ms).toBeGreaterThan(0);
      expect(quick.ms).toBeLessThanOrEqual(quick.elapsed);
      // A server that holds replies for 300 ms: the round trip measured includes the wait.
      await admin.call('CLIENT', 'PAUSE', '300', 'ALL');
      const held = await measure();
      expect(held.ms).toBeGreaterThanOrEqual(250);
      expect(held.ms).toBeLessThanOrEqual(held.elapsed);
    });

    it('fails to open with a transient StoreError when nothing listens, and leaves nothing behind', async () => {
      const store = makeStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 1000 });
      const error = await rejection(store.open());
      expectStoreError(error, true);
      expect(((error as StoreError).cause as { code?: unknown }).code).toBe('ECONNREFUSED');
      expectStoreError(await rejection(store.get(key('a'))), true);
    });

    it('uses an injected client and leaves it connected on close', async () => {
      const client = new Redis(server.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      try {
        const store = makeStore({ client });
        expect(await store.apply([put(key('a'))])).toEqual([1]);
        await store.close();
        expect(client.status).toBe('ready');
        expect(await client.ping()).toBe('PONG');
      } finally {
        client.disconnect();
      }
    });

    it('keeps the key prefix of an injected client on every key, the batch scripts\' too', async () => {
      const outer = `${freshPrefix()}-app:`;
      const client = new Redis(server.url, { lazyConnect: true, keyPrefix: outer });
      // A store of its own loads ioredis, which lets scripts skip ioredis's argument copy on clients of that copy.
      const own = makeStore({ keyPrefix: freshPrefix() });
      await own.open();
      try {
        const prefix = freshPrefix();
        const store = makeStore({ client, keyPrefix: prefix });
        const usual: TrustedPut = { kind: 'put', key: key('u'), expectedVersion: 0, hint: undefined, appendSetTexts: (into) => (into.push('n', '1'), 1), set: new Map([['n', bytes('1')]]), changed: ['n'] };
        expect(await store.apply([usual], { [TRUSTED_BATCH]: true })).toEqual([1]);
        expect(await store.apply([put(key('a'))])).toEqual([1]);
        const written = await admin.keys(`*${prefix}:o:*`);
        expect(written.sort()).toEqual([`${outer}${prefix}:o:{cls:0}:a`, `${outer}${prefix}:o:{cls:0}:u`]);
        expect((await store.get(key('u')))?.version).toBe(1);
        await store.close();
      } finally {
        await own.close();
        client.disconnect();
      }
    });

    it('refuses bad options', () => {
      expect(() => new RedisStore({ url: '' })).toThrow(InvalidArgumentError);
      expect(() => new RedisStore({ url: server.url, keyPrefix: '' })).toThrow(InvalidArgumentError);
      expect(() => new RedisStore({ url: server.url, keyPrefix: 'a{b}' })).toThrow(InvalidArgumentError);
      expect(() => new RedisStore({ url: server.url, connectTimeoutMs: 0 })).toThrow(InvalidArgumentError);
      expect(() => new RedisStore({ url: server.url, commandTimeoutMs: 1.5 })).toThrow(InvalidArgumentError);
      expect(() => new RedisStore(null as unknown as RedisStoreOptions)).toThrow(InvalidArgumentError);
    });
  });
});
