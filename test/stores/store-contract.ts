/**
 * The store conformance suite: every backend runs it, so every backend keeps
 * the same promises. It tests only what `src/stores/store.ts` promises,
 * nothing about how a backend keeps its data.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, StoreError, type VersionConflict } from '../../src/errors.js';
import { TRUSTED_BATCH, type DueObject, type DueOptions, type ObjectKey, type Store, type TrustedPut, type StoredObject, type WriteOp } from '../../src/stores/store.js';
import { rejection } from '../support/promises.js';

/**
 * What a store on a platform's own API cannot promise (the ODGM store: see
 * "The ODGM store" in docs/stores.md). The suite then writes its set-up one
 * object per batch and leaves out, or narrows, the tests that need what the
 * store lacks; the store's own test file covers what it does instead. Every
 * other store runs the whole suite with no limits.
 */
export interface ContractLimits {
  /** A batch that writes several objects is refused: set-up goes one object per batch, and the tests of multi-object batches are left out. */
  readonly oneObjectPerBatch?: boolean;
  /** Only lower-case `[a-z0-9._:-]` object ids and entry keys, up to 160 characters, are kept: tests of other names are left out. */
  readonly plainNames?: boolean;
  /** The platform's versions: a put that changes nothing, or that removes entries, need not step the version by one, and a deleted id need not be usable again. */
  readonly platformVersions?: boolean;
}

/** What a backend's test file hands the suite: an open-able, empty store and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: Store;
  readonly cleanup?: () => Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (text: string): Uint8Array => encoder.encode(text);

function key(objectId: string, clsId = 'cls', partitionId = 0): ObjectKey {
  return { clsId, partitionId, objectId };
}

function put(k: ObjectKey, set: Record<string, string> = {}, more: { expectedVersion?: number; remove?: string[]; wakeAt?: number | null } = {}): WriteOp {
  return { kind: 'put', key: k, set: new Map(Object.entries(set).map(([name, value]) => [name, bytes(value)])), ...more };
}

function del(k: ObjectKey, expectedVersion?: number): WriteOp {
  return { kind: 'delete', key: k, expectedVersion };
}

/** A put as the SDK builds it: the delta (as bytes and as text) and, for stores that keep an object in one row, its whole state. */
function statePut(
  k: ObjectKey,
  expectedVersion: number,
  state: Record<string, unknown>,
  set: Record<string, unknown>,
  more: { wakeAt?: number | null; hint?: number } = {},
): TrustedPut {
  const members = Object.entries(state).map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
  return {
    kind: 'put',
    key: k,
    expectedVersion,
    // The SDK's puts always say what the wake time becomes; `undefined` is tested apart.
    wakeAt: 'wakeAt' in more ? more.wakeAt : null,
    set: new Map(Object.entries(set).map(([name, value]) => [name, bytes(JSON.stringify(value))])),
    appendSetTexts: (into) => {
      for (const [name, value] of Object.entries(set)) into.push(name, JSON.stringify(value));
      return Object.keys(set).length;
    },
    state: `{${members.join(',')}}`,
    entryCount: members.length,
    hint: more.hint,
  };
}

const trusted = { [TRUSTED_BATCH]: true } as const;

/** An object's entries as text, for readable assertions. */
function texts(object: StoredObject | undefined): Record<string, string> | undefined {
  if (object === undefined) return undefined;
  return Object.fromEntries([...object.entries].map(([name, value]) => [name, decoder.decode(value)]));
}


async function conflictsOf(promise: Promise<unknown>): Promise<VersionConflict[]> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ConflictError);
  expect((error as ConflictError).code).toBe('OAAS_ERR_COMMIT_CONFLICT');
  return [...(error as ConflictError).conflicts].sort((a, b) => (a.ref.objectId < b.ref.objectId ? -1 : 1));
}

async function expectInvalid(promise: Promise<unknown>, argument?: string): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).code).toBe('OAAS_ERR_ARGUMENT_INVALID');
  if (argument !== undefined) expect((error as InvalidArgumentError).argument).toBe(argument);
}

/**
 * Registers the store contract tests for one backend. `makeStore` must give
 * each test its own empty store (a fresh file, database, schema or key
 * prefix); the suite opens it and closes it after the test.
 */
export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>, limits: ContractLimits = {}): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void>) | undefined;
    const { oneObjectPerBatch = false, plainNames = false, platformVersions = false } = limits;

    /** Writes a test's starting state: in one batch, or one batch per object where the store writes one object per batch. */
    async function seed(ops: readonly WriteOp[]): Promise<void> {
      if (!oneObjectPerBatch) {
        await store.apply(ops);
        return;
      }
      for (const op of ops) await store.apply([op]);
    }

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.open();
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    describe('reads and writes', () => {
      it('has a name and opens idempotently', async () => {
        // Lower-case words; a store in front of another joins their names with '+' ('postgres+cache').
        expect(store.name).toMatch(/^[a-z0-9-]+(\+[a-z0-9-]+)*$/);
        await store.open();
        expect(await store.apply([put(key('a'), { x: '1' })])).toEqual([1]);
      });

      it('returns undefined for a missing object', async () => {
        expect(await store.get(key('missing'))).toBeUndefined();
        expect(await store.getMany([key('missing')])).toEqual([undefined]);
      });

      it('creates an object at version 1 and returns its entries byte-exact', async () => {
        const all = Uint8Array.from({ length: 256 }, (_, i) => i);
        const versions = await store.apply([{ kind: 'put', key: key('a'), set: new Map([['all', all], ['empty', new Uint8Array(0)]]) }]);
        expect(versions).toEqual([1]);
        const object = await store.get(key('a'));
        expect(object?.version).toBe(1);
        expect(object?.key).toEqual(key('a'));
        expect([...(object?.entries.keys() ?? [])].sort()).toEqual(['all', 'empty']);
        const read = object?.entries.get('all');
        expect(read).toBeInstanceOf(Uint8Array);
        expect(Buffer.compare(read ?? new Uint8Array(0), all)).toBe(0);
        expect(object?.entries.get('empty')?.byteLength).toBe(0);
      });

      it('grows the version by one with every write, even one that changes no entry', async () => {
        expect(await store.apply([put(key('a'), { x: '1' })])).toEqual([1]);
        expect(await store.apply([put(key('a'), { x: '2' })])).toEqual([2]);
        if (platformVersions) return;
        expect(await store.apply([put(key('a'))])).toEqual([3]);
        const object = await store.get(key('a'));
        expect(object?.version).toBe(3);
        expect(texts(object)).toEqual({ x: '2' });
      });

      it('leaves entries a put does not name as they are', async () => {
        await store.apply([put(key('a'), { x: '1', y: '2', z: '3' })]);
        await store.apply([put(key('a'), { y: 'two', w: '4' })]);
        expect(texts(await store.get(key('a')))).toEqual({ x: '1', y: 'two', z: '3', w: '4' });
      });

      it('removes the entries a put names, keeping the object even when no entry is left', async () => {
        await store.apply([put(key('a'), { x: '1', y: '2', z: '3' })]);
        const [second] = await store.apply([put(key('a'), { w: '4' }, { remove: ['x', 'z', 'never-there'] })]);
        if (!platformVersions) expect(second).toBe(2);
        expect(texts(await store.get(key('a')))).toEqual({ y: '2', w: '4' });
        const [third] = await store.apply([put(key('a'), {}, { remove: ['y', 'w'] })]);
        const object = await store.get(key('a'));
        expect(object?.version).toBe(third);
        if (!platformVersions) expect(third).toBe(3);
        expect(object?.entries.size).toBe(0);
      });

      it('deletes an object with its entries; a new object under the same key starts afresh', async () => {
        await seed([put(key('a'), { x: '1', y: '2' }), put(key('b'), { x: 'b' })]);
        expect(await store.apply([del(key('a'), 1)])).toEqual([0]);
        expect(await store.get(key('a'))).toBeUndefined();
        expect(texts(await store.get(key('b')))).toEqual({ x: 'b' });
        if (platformVersions) return;
        expect(await store.apply([put(key('a'), { z: '3' }, { expectedVersion: 0 })])).toEqual([1]);
        expect(texts(await store.get(key('a')))).toEqual({ z: '3' });
      });

      it('treats deleting an absent object as a no-op unless a version is expected', async () => {
        expect(await store.apply([del(key('absent'))])).toEqual([0]);
        expect(await store.apply([del(key('absent'), 0)])).toEqual([0]);
        expect(await store.get(key('absent'))).toBeUndefined();
        expect(await conflictsOf(store.apply([del(key('absent'), 2)]))).toEqual([{ ref: key('absent'), expected: 2, actual: 0 }]);
      });

      it.skipIf(oneObjectPerBatch)('aligns the returned versions with the ops, 0 for a delete', async () => {
        await store.apply([put(key('b')), put(key('c'))]);
        await store.apply([put(key('b'))]);
        const versions = await store.apply([put(key('a')), put(key('b')), del(key('c')), del(key('none')), put(key('d'), { x: '1' })]);
        expect(versions).toEqual([1, 3, 0, 0, 1]);
      });

      it('resolves an empty batch with no versions', async () => {
        expect(await store.apply([])).toEqual([]);
        expect((await store.list('cls', 0)).objects).toEqual([]);
      });

      it('accepts every isolation level', async () => {
        for (const isolation of ['read-committed', 'repeatable-read', 'serializable'] as const) {
          await store.apply([put(key(isolation))], { isolation });
        }
        expect((await store.list('cls', 0)).objects).toHaveLength(3);
      });
    });

    describe('getMany', () => {
      it('returns objects aligned with the keys, with holes for missing ones', async () => {
        await seed([put(key('a'), { n: 'a' }), put(key('b'), { n: 'b' })]);
        await store.apply([put(key('b'), { n: 'b2' })]);
        const found = await store.getMany([key('b'), key('missing'), key('a'), key('b'), key('a', 'other')]);
        expect(found).toHaveLength(5);
        expect(found.map((o) => o?.version)).toEqual([2, undefined, 1, 2, undefined]);
        expect(found.map((o) => o?.key.objectId)).toEqual(['b', undefined, 'a', 'b', undefined]);
        expect(found.map(texts)).toEqual([{ n: 'b2' }, undefined, { n: 'a' }, { n: 'b2' }, undefined]);
        expect(await store.getMany([])).toEqual([]);
      });
    });

    describe('optimistic concurrency', () => {
      it('rejects expectedVersion 0 on an existing object with the conflict detail', async () => {
        await store.apply([put(key('a'), { x: '1' })]);
        const conflicts = await conflictsOf(store.apply([put(key('a'), { x: '2' }, { expectedVersion: 0 })]));
        expect(conflicts).toEqual([{ ref: key('a'), expected: 0, actual: 1 }]);
        expect(texts(await store.get(key('a')))).toEqual({ x: '1' });
      });

      it.skipIf(oneObjectPerBatch)('writes nothing of a batch when one expected version is wrong', async () => {
        await store.apply([put(key('a'), { x: '1' }), put(key('b'), { y: '1' }), put(key('c'), { z: '1' })]);
        const batch = [
          put(key('new'), { z: '1' }, { expectedVersion: 0 }),
          put(key('b'), { y: '2' }, { expectedVersion: 1 }),
          del(key('c'), 1),
          put(key('a'), { x: '2' }, { expectedVersion: 7 }),
        ];
        const conflicts = await conflictsOf(store.apply(batch));
        expect(conflicts).toEqual([{ ref: key('a'), expected: 7, actual: 1 }]);
        expect(await store.get(key('new'))).toBeUndefined();
        const b = await store.get(key('b'));
        expect(b?.version).toBe(1);
        expect(texts(b)).toEqual({ y: '1' });
        expect(texts(await store.get(key('c')))).toEqual({ z: '1' });
        expect(texts(await store.get(key('a')))).toEqual({ x: '1' });
      });

      it.skipIf(oneObjectPerBatch)('does not delete when a batch with a delete conflicts', async () => {
        await store.apply([put(key('a'), { x: '1' }), put(key('b'), { y: '1' })]);
        await conflictsOf(store.apply([del(key('a'), 1), del(key('b'), 5)]));
        expect((await store.get(key('a')))?.version).toBe(1);
        expect((await store.get(key('b')))?.version).toBe(1);
      });

      it.skipIf(oneObjectPerBatch)('lists every conflicting object in one ConflictError', async () => {
        await store.apply([put(key('a')), put(key('b')), put(key('ok'))]);
        const conflicts = await conflictsOf(
          store.apply([
            put(key('a'), {}, { expectedVersion: 5 }),
            put(key('b'), {}, { expectedVersion: 0 }),
            put(key('c'), {}, { expectedVersion: 0 }),
            put(key('ok'), {}, { expectedVersion: 1 }),
            del(key('d'), 2),
          ]),
        );
        expect(conflicts).toEqual([
          { ref: key('a'), expected: 5, actual: 1 },
          { ref: key('b'), expected: 0, actual: 1 },
          { ref: key('d'), expected: 2, actual: 0 },
        ]);
        expect(await store.get(key('c'))).toBeUndefined();
        expect((await store.get(key('ok')))?.version).toBe(1);
      });

      it('skips the check when expectedVersion is undefined', async () => {
        expect(await store.apply([put(key('a'), { x: '1' })])).toEqual([1]);
        await store.apply([put(key('a'), { y: '2' })]);
        expect(await store.apply([put(key('a'), { x: '3' }, { expectedVersion: undefined })])).toEqual([3]);
        expect(await store.apply([del(key('a'))])).toEqual([0]);
        expect(await store.get(key('a'))).toBeUndefined();
      });

      it('accepts the right expected version', async () => {
        await store.apply([put(key('a'), { x: '0' })]);
        expect(await store.apply([put(key('a'), { x: '1' }, { expectedVersion: 1 })])).toEqual([2]);
        expect(await store.apply([put(key('a'), { x: '2' }, { expectedVersion: 2 })])).toEqual([3]);
        expect(texts(await store.get(key('a')))).toEqual({ x: '2' });
      });

      it('lets exactly one of two racing writers with the same expected version win', async () => {
        await store.apply([put(key('a'), { n: '0' })]);
        const results = await Promise.allSettled([
          store.apply([put(key('a'), { n: 'first' }, { expectedVersion: 1 })]),
          store.apply([put(key('a'), { n: 'second' }, { expectedVersion: 1 })]),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
        const object = await store.get(key('a'));
        expect(object?.version).toBe(2);
        expect(['first', 'second']).toContain(texts(object)?.n);
      });

      it.skipIf(oneObjectPerBatch)('applies a multi-object batch as a whole', async () => {
        await store.apply([put(key('a'), { x: '1' }), put(key('gone'), { y: '1' })]);
        const versions = await store.apply([
          put(key('a'), { x: '2' }, { expectedVersion: 1 }),
          put(key('b'), { x: 'b' }, { expectedVersion: 0 }),
          put(key('c', 'cls', 7), { x: 'c' }),
          del(key('gone'), 1),
        ]);
        expect(versions).toEqual([2, 1, 1, 0]);
        const [a, b, c, gone] = await store.getMany([key('a'), key('b'), key('c', 'cls', 7), key('gone')]);
        expect([texts(a), texts(b), texts(c), gone]).toEqual([{ x: '2' }, { x: 'b' }, { x: 'c' }, undefined]);
      });
    });

    describe('byte isolation', () => {
      it('keeps stored bytes when the caller mutates a buffer it passed in', async () => {
        const value = bytes('abc');
        await store.apply([{ kind: 'put', key: key('a'), set: new Map([['v', value]]) }]);
        value[0] = 0x7a;
        expect(texts(await store.get(key('a')))).toEqual({ v: 'abc' });
      });

      it('keeps stored bytes when the caller mutates what it read', async () => {
        await store.apply([put(key('a'), { v: 'abc', w: 'def' })]);
        const first = await store.get(key('a'));
        first?.entries.get('v')?.fill(0x7a);
        (first?.entries as Map<string, Uint8Array> | undefined)?.delete('w');
        const [many] = await store.getMany([key('a')]);
        many?.entries.get('w')?.fill(0x7a);
        expect(texts(await store.get(key('a')))).toEqual({ v: 'abc', w: 'def' });
      });

      it('stores only the bytes a view covers', async () => {
        const backing = bytes('xxHELLOyy');
        const view = backing.subarray(2, 7);
        await store.apply([{ kind: 'put', key: key('a'), set: new Map([['v', view], ['buf', Buffer.from('node buffer')]]) }]);
        expect(texts(await store.get(key('a')))).toEqual({ v: 'HELLO', buf: 'node buffer' });
      });

      it('round-trips a 1 MiB value and unusual entry keys and object ids', async () => {
        const big = randomBytes(1024 * 1024);
        const odd = plainNames
          ? ['_', '.', ':', '-', 'a.b:c-d_e', '0', 'x'.repeat(160)]
          : ['', ' ', 'ключ', '😀', 'a/b.c', `q'"\``, '\\', '%', '_', '*?[', 'line\nbreak', 'x'.repeat(500)];
        const set = new Map<string, Uint8Array>([['big', big], ...odd.map((k, i): [string, Uint8Array] => [k, bytes(`value ${i}`)])]);
        const id = plainNames ? 'id:x.y-z_0' : 'ид-😀 é';
        await store.apply([{ kind: 'put', key: key(id), set }]);
        const object = await store.get(key(id));
        expect(object?.key.objectId).toBe(id);
        expect(object?.entries.size).toBe(odd.length + 1);
        expect(Buffer.compare(object?.entries.get('big') ?? new Uint8Array(0), big)).toBe(0);
        odd.forEach((k, i) => {
          expect(decoder.decode(object?.entries.get(k))).toBe(`value ${i}`);
        });
        expect((await store.list('cls', 0)).objects.map((o) => o.objectId)).toEqual([id]);
      });
    });

    describe('isolation of classes and partitions', () => {
      it('keeps objects with the same id in other classes and partitions apart', async () => {
        // An id with the separator of the class and partition in keys and paths, where the store keeps a '/'.
        const joined = plainNames ? '2:x' : '2/x';
        const keys = [key('x', 'A', 0), key('x', 'A', 1), key('x', 'B', 0), key(joined, 'a', 1), key('x', 'a/1', 2)];
        await seed(keys.map((k, i) => put(k, { n: String(i) })));
        await store.apply([put(keys[0] ?? key('x'), { n: 'changed' })]);
        await store.apply([del(keys[2] ?? key('x'))]);
        const found = await store.getMany(keys);
        expect(found.map((o) => o?.version)).toEqual([2, 1, undefined, 1, 1]);
        expect(found.map((o) => texts(o)?.n)).toEqual(['changed', '1', undefined, '3', '4']);
        expect((await store.list('A', 0)).objects).toEqual([{ objectId: 'x', version: 2, entryCount: 1 }]);
        expect((await store.list('A', 1)).objects).toEqual([{ objectId: 'x', version: 1, entryCount: 1 }]);
        expect((await store.list('B', 0)).objects).toEqual([]);
        expect((await store.list('a', 1)).objects.map((o) => o.objectId)).toEqual([joined]);
        expect(await conflictsOf(store.apply([put(key('x', 'A', 1), {}, { expectedVersion: 2 })]))).toEqual([
          { ref: key('x', 'A', 1), expected: 2, actual: 1 },
        ]);
      });
    });

    describe('list', () => {
      it('orders objects by object id in binary (UTF-8 byte) order with versions and entry counts', async () => {
        const ids = plainNames
          ? ['b', 'a_b', 'a', 'ab', 'a.b', '0', ':', 'a-b', 'a:b', 'z']
          : ['b', '~', 'a_b', 'Z', 'a', 'ab', 'a.b', '0', 'B', 'a-b', '😀', 'é', '\uFFFD', 'z'];
        await seed(ids.map((id) => put(key(id), { k: id })));
        await seed([put(key('a'), { two: '2', three: '3' }), put(key('b'), {}, { remove: ['k'] })]);
        const page = await store.list('cls', 0);
        expect(page.objects.map((o) => o.objectId)).toEqual(
          plainNames
            ? ['0', ':', 'a', 'a-b', 'a.b', 'a:b', 'a_b', 'ab', 'b', 'z']
            : ['0', 'B', 'Z', 'a', 'a-b', 'a.b', 'a_b', 'ab', 'b', 'z', '~', 'é', '\uFFFD', '😀'],
        );
        expect(page.objects.find((o) => o.objectId === 'a')).toEqual({ objectId: 'a', version: 2, entryCount: 3 });
        const b = page.objects.find((o) => o.objectId === 'b');
        expect(b).toEqual({ objectId: 'b', version: platformVersions ? b?.version : 2, entryCount: 0 });
        expect(page.objects.find((o) => o.objectId === 'z')).toEqual({ objectId: 'z', version: 1, entryCount: 1 });
        expect(page.nextCursor).toBeUndefined();
      });

      it('returns an empty page for an empty class or partition', async () => {
        await seed([put(key('a', 'other', 0)), put(key('a', 'cls', 1))]);
        const page = await store.list('cls', 0);
        expect(page.objects).toEqual([]);
        expect(page.nextCursor).toBeUndefined();
      });

      it('leaves out deleted objects', async () => {
        await seed([put(key('a')), put(key('b')), put(key('c'))]);
        await store.apply([del(key('b'))]);
        expect((await store.list('cls', 0)).objects.map((o) => o.objectId)).toEqual(['a', 'c']);
      });

      it('filters by prefix literally, without wildcards', async () => {
        // SQL LIKE and glob wildcards, where the store keeps them in ids.
        const wild = plainNames ? [] : ['user%x', 'a*b', 'a?c', 'a[d'];
        const ids = ['use', 'user:1', 'user:10', 'user:2', 'user_', 'users', 'usex', 'userx_y', 'v', 'ab', ...wild];
        await seed(ids.map((id) => put(key(id))));
        const listed = async (prefix: string): Promise<string[]> => (await store.list('cls', 0, { prefix })).objects.map((o) => o.objectId);
        expect(await listed('user:')).toEqual(['user:1', 'user:10', 'user:2']);
        expect(await listed('user')).toEqual([...(plainNames ? [] : ['user%x']), 'user:1', 'user:10', 'user:2', 'user_', 'users', 'userx_y']);
        expect(await listed('user_')).toEqual(['user_']);
        if (!plainNames) {
          expect(await listed('user%')).toEqual(['user%x']);
          expect(await listed('a*')).toEqual(['a*b']);
          expect(await listed('a?')).toEqual(['a?c']);
          expect(await listed('a[')).toEqual(['a[d']);
        }
        expect(await listed('zzz')).toEqual([]);
        expect(await listed('')).toHaveLength(ids.length);
      });

      it.skipIf(plainNames)('filters by prefixes that end in edge code points', async () => {
        const ids = ['a\u{10FFFF}', 'a\u{10FFFF}b', 'b', 'a\uD7FF', 'a\uD7FFx', 'a\uE000'];
        await store.apply(ids.map((id) => put(key(id))));
        const listed = async (prefix: string): Promise<string[]> => (await store.list('cls', 0, { prefix })).objects.map((o) => o.objectId);
        expect(await listed('a\u{10FFFF}')).toEqual(['a\u{10FFFF}', 'a\u{10FFFF}b']);
        expect(await listed('a\uD7FF')).toEqual(['a\uD7FF', 'a\uD7FFx']);
      });

      it('pages through 250 objects with no duplicates or gaps', async () => {
        const ids = Array.from({ length: 250 }, (_, i) => `obj-${String(i).padStart(3, '0')}`);
        const shuffled = [...ids].sort(() => Math.random() - 0.5);
        await seed(shuffled.map((id) => put(key(id), { id })));

        const first = await store.list('cls', 0);
        expect(first.objects).toHaveLength(100);
        expect(first.nextCursor).toEqual(expect.any(String));

        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 100; pages += 1) {
          const page = await store.list('cls', 0, { limit: 7, cursor });
          expect(page.objects.length).toBeLessThanOrEqual(7);
          seen.push(...page.objects.map((o) => o.objectId));
          cursor = page.nextCursor;
          if (cursor === undefined) break;
        }
        expect(cursor).toBeUndefined();
        expect(seen).toEqual(ids);

        const all = await store.list('cls', 0, { limit: 1000 });
        expect(all.objects.map((o) => o.objectId)).toEqual(ids);
        expect(all.nextCursor).toBeUndefined();
      });

      it('pages within a prefix', async () => {
        const ids = Array.from({ length: 250 }, (_, i) => `obj-${String(i).padStart(3, '0')}`);
        await seed(ids.map((id) => put(key(id))));
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages < 20; pages += 1) {
          const page = await store.list('cls', 0, { prefix: 'obj-1', limit: 30, cursor });
          seen.push(...page.objects.map((o) => o.objectId));
          cursor = page.nextCursor;
          if (cursor === undefined) break;
        }
        expect(seen).toEqual(ids.slice(100, 200));
      });

      it('keeps to the prefix even with a cursor that points before it', async () => {
        await seed(['a', 'b', 'user:1', 'user:2', 'v'].map((id) => put(key(id))));
        const first = await store.list('cls', 0, { limit: 1 });
        expect(first.objects.map((o) => o.objectId)).toEqual(['a']);
        const page = await store.list('cls', 0, { prefix: 'user', cursor: first.nextCursor });
        expect(page.objects.map((o) => o.objectId)).toEqual(['user:1', 'user:2']);
      });

      it('returns at most limit objects, and a cursor only when more may follow', async () => {
        await seed(['a', 'b', 'c'].map((id) => put(key(id))));
        const one = await store.list('cls', 0, { limit: 1 });
        expect(one.objects.map((o) => o.objectId)).toEqual(['a']);
        expect(one.nextCursor).toEqual(expect.any(String));
        const rest = await store.list('cls', 0, { limit: 1000, cursor: one.nextCursor });
        expect(rest.objects.map((o) => o.objectId)).toEqual(['b', 'c']);
        expect(rest.nextCursor).toBeUndefined();
      });

      it('refuses a limit outside 1..1000 or not an integer', async () => {
        for (const limit of [0, -1, 1001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
          await expectInvalid(store.list('cls', 0, { limit }), 'limit');
        }
      });

      it('refuses a malformed cursor', async () => {
        for (const cursor of ['!!not-a-cursor!!', 'a b', 42 as unknown as string]) {
          await expectInvalid(store.list('cls', 0, { cursor }), 'cursor');
        }
      });
    });

    describe('argument checks', () => {
      it('refuses a batch that names one object twice and writes nothing of it', async () => {
        await store.apply([put(key('a'), { x: '1' })]);
        await expectInvalid(store.apply([put(key('new')), put(key('a'), { x: '2' }), del(key('a'))]), 'ops');
        await expectInvalid(store.apply([put(key('a'), { x: '3' }), put(key('a'), { y: '3' })]), 'ops');
        expect(await store.get(key('new'))).toBeUndefined();
        const a = await store.get(key('a'));
        expect(a?.version).toBe(1);
        expect(texts(a)).toEqual({ x: '1' });
      });

      const badKeys: unknown[] = [
        undefined,
        { clsId: '', partitionId: 0, objectId: 'a' },
        { clsId: 7, partitionId: 0, objectId: 'a' },
        { clsId: 'cls', partitionId: -1, objectId: 'a' },
        { clsId: 'cls', partitionId: 1.5, objectId: 'a' },
        { clsId: 'cls', partitionId: Number.NaN, objectId: 'a' },
        { clsId: 'cls', partitionId: '0', objectId: 'a' },
        { clsId: 'cls', partitionId: 2 ** 53, objectId: 'a' },
        { clsId: 'cls', partitionId: 0, objectId: '' },
        { clsId: 'cls', partitionId: 0, objectId: 5 },
      ];

      it('refuses malformed keys in every call and writes nothing', async () => {
        for (const bad of badKeys) {
          const k = bad as ObjectKey;
          await expectInvalid(store.get(k));
          await expectInvalid(store.getMany([key('a'), k]));
          await expectInvalid(store.apply([put(key('fine')), { kind: 'put', key: k }]));
          await expectInvalid(store.apply([{ kind: 'delete', key: k }]));
        }
        expect(await store.get(key('fine'))).toBeUndefined();
        await expectInvalid(store.list('', 0));
        await expectInvalid(store.list('cls', -1));
        await expectInvalid(store.list('cls', 0.5));
      });

      it('refuses a malformed expected version and writes nothing', async () => {
        for (const expectedVersion of [-1, 1.5, Number.NaN, '1' as unknown as number]) {
          await expectInvalid(store.apply([put(key('fine')), put(key('a'), {}, { expectedVersion })]));
        }
        expect(await store.get(key('fine'))).toBeUndefined();
      });
    });

    describe('trusted batches (the SDK\'s own commits)', () => {
      it('creates, updates and version-checks an object from its whole state', async () => {
        expect(await store.apply([statePut(key('a'), 0, { n: 1, s: 'x' }, { n: 1, s: 'x' })], trusted)).toEqual([1]);
        expect(await store.apply([statePut(key('a'), 1, { n: 2, s: 'x' }, { n: 2 })], trusted)).toEqual([2]);
        expect(texts(await store.get(key('a')))).toEqual({ n: '2', s: '"x"' });
        expect(await conflictsOf(store.apply([statePut(key('a'), 1, { n: 9, s: 'x' }, { n: 9 })], trusted))).toEqual([{ ref: key('a'), expected: 1, actual: 2 }]);
        expect(texts(await store.get(key('a')))).toEqual({ n: '2', s: '"x"' });
        await conflictsOf(store.apply([statePut(key('a'), 0, { n: 1 }, { n: 1 })], trusted));
      });

      it.skipIf(oneObjectPerBatch)('writes nothing of a trusted batch when one expected version is wrong, and lists the conflict', async () => {
        await store.apply([statePut(key('a'), 0, { n: 1 }, { n: 1 }), statePut(key('b'), 0, {}, {})], trusted);
        expect((await store.get(key('b')))?.entries.size).toBe(0);
        const conflicts = await conflictsOf(store.apply([statePut(key('a'), 2, { n: 9 }, { n: 9 }), statePut(key('c'), 0, { n: 1 }, { n: 1 }), statePut(key('b'), 1, { m: 1 }, { m: 1 })], trusted));
        expect(conflicts).toEqual([{ ref: key('a'), expected: 2, actual: 1 }]);
        expect(texts(await store.get(key('a')))).toEqual({ n: '1' });
        expect(await store.get(key('c'))).toBeUndefined();
        expect((await store.get(key('b')))?.version).toBe(1);
      });

      it.skipIf(oneObjectPerBatch)('writes a trusted batch across classes and partitions', async () => {
        const keys = [key('a'), key('a', 'cls', 1), key('a', 'other')];
        expect(await store.apply(keys.map((k, i) => statePut(k, 0, { n: i }, { n: i })), trusted)).toEqual([1, 1, 1]);
        expect(await store.apply(keys.map((k, i) => statePut(k, 1, { n: i + 10 }, { n: i + 10 })), trusted)).toEqual([2, 2, 2]);
        expect((await store.getMany(keys)).map(texts)).toEqual([{ n: '10' }, { n: '11' }, { n: '12' }]);
        expect(await conflictsOf(store.apply(keys.map((k, i) => statePut(k, i === 1 ? 1 : 2, { n: 0 }, { n: 0 })), trusted))).toEqual([{ ref: key('a', 'cls', 1), expected: 1, actual: 2 }]);
      });

      it.skipIf(oneObjectPerBatch)('writes the SDK\'s usual batch (one partition, the wake time left alone): creates, updates, many entries, and a conflict', async () => {
        const cls = plainNames ? 'usual.cls' : 'cls:{odd}%✓';
        const ids = plainNames ? ['a', 'b', 'c', 'd'] : ['a', 'zoë-✓', '{b}:%', 'd'];
        const k = (i: number): ObjectKey => key(ids[i]!, cls, 3);
        const keep = { wakeAt: undefined };
        const many = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i]));
        expect(await store.apply([statePut(k(0), 0, { n: 1 }, { n: 1 }, keep), statePut(k(1), 0, {}, {}, keep)], trusted)).toEqual([1, 1]);
        expect(await store.apply([statePut(k(1), 1, many, many, keep), statePut(k(2), 0, { s: 'x' }, { s: 'x' }, keep), statePut(k(0), 1, { n: 2 }, { n: 2 }, keep)], trusted)).toEqual([2, 1, 2]);
        expect(texts(await store.get(k(0)))).toEqual({ n: '2' });
        expect(texts(await store.get(k(1)))).toEqual(Object.fromEntries(Object.entries(many).map(([name, value]) => [name, String(value)])));
        expect(texts(await store.get(k(2)))).toEqual({ s: '"x"' });
        expect((await store.list(cls, 3)).objects.map((o) => [o.objectId, o.version]).sort()).toEqual([[ids[0], 2], [ids[1], 2], [ids[2], 1]].sort());
        // One wrong version (k(0)) and a create of an existing object (k(2)): nothing of the batch is written, not even the new k(3).
        const conflicts = await conflictsOf(store.apply([statePut(k(3), 0, { n: 1 }, { n: 1 }, keep), statePut(k(0), 1, { n: 9 }, { n: 9 }, keep), statePut(k(2), 0, { s: 'y' }, { s: 'y' }, keep), statePut(k(1), 2, { f0: 9 }, { f0: 9 }, keep)], trusted));
        const byId = (a: VersionConflict, b: VersionConflict): number => (a.ref.objectId < b.ref.objectId ? -1 : 1);
        expect(conflicts).toEqual([{ ref: k(0), expected: 1, actual: 2 }, { ref: k(2), expected: 0, actual: 1 }].sort(byId));
        expect(await store.get(k(3))).toBeUndefined();
        expect(texts(await store.get(k(0)))).toEqual({ n: '2' });
        expect((await store.get(k(1)))?.version).toBe(2);
        expect((await store.list(cls, 3)).objects).toHaveLength(3);
      });

      it('keeps entries that are not canonical JSON byte-exact beside ones the SDK writes', async () => {
        const odd = new Map([['blob', new Uint8Array([0, 255, 7])], ['spaced', bytes('{ "a" : 1 }')], ['number', bytes('1.0')], ['n', bytes('1')]]);
        await store.apply([{ kind: 'put', key: key('a'), expectedVersion: 0, set: odd }]);
        const read = await store.get(key('a'));
        expect([...(read?.entries.get('blob') ?? [])]).toEqual([0, 255, 7]);
        expect(texts(read)).toMatchObject({ spaced: '{ "a" : 1 }', number: '1.0', n: '1' });
        expect((await store.list('cls', 0)).objects[0]?.entryCount).toBe(4);
        await store.apply([{ kind: 'put', key: key('a'), expectedVersion: 1, set: new Map([['n', bytes('2')]]), remove: ['spaced'] }]);
        const after = await store.get(key('a'));
        expect([...(after?.entries.get('blob') ?? [])]).toEqual([0, 255, 7]);
        expect(texts(after)).toMatchObject({ number: '1.0', n: '2' });
        expect(after?.entries.has('spaced')).toBe(false);
      });
    });

    describe('wake times and due()', () => {
      /**
       * `store.due`; a store without it (ODGM) keeps no wake times, so these
       * tests are skipped for it, visibly (its own test file checks that it
       * has no `due` and refuses a wake time).
       */
      function dueOf(skip: (note?: string) => void): NonNullable<Store['due']> {
        if (store.due === undefined) skip(`${name} has no due(): it keeps no wake times`);
        return store.due!.bind(store);
      }
      /** What due() found, as (object id, wake time, version) triples, for readable assertions. */
      const found = (objects: readonly DueObject[]): [string, number, number][] => objects.map((o) => [o.key.objectId, o.wakeAt, o.version]);

      it('finds an object whose wake time is set at creation, with its key and version', async ({ skip }) => {
        const due = dueOf(skip);
        expect(await due(Date.now())).toEqual([]);
        await store.apply([put(key('a'), { x: '1' }, { wakeAt: 1000 }), put(key('b'), { x: '1' })]);
        expect(await due(1000)).toEqual([{ key: key('a'), wakeAt: 1000, version: 1 }]);
        expect(await due(999)).toEqual([]);
      });

      it('leaves the wake time as it is when a put says nothing of it, clears it on null', async ({ skip }) => {
        const due = dueOf(skip);
        await store.apply([put(key('a'), { x: '1' }, { wakeAt: 50 })]);
        await store.apply([put(key('a'), { x: '2' })]);
        await store.apply([put(key('a'), {}, { wakeAt: undefined, remove: ['x'] })]);
        expect(found(await due(50))).toEqual([['a', 50, 3]]);
        await store.apply([put(key('a'), { x: '3' }, { wakeAt: 70 })]);
        expect(found(await due(100))).toEqual([['a', 70, 4]]);
        await store.apply([put(key('a'), {}, { wakeAt: null })]);
        expect(await due(Number.MAX_SAFE_INTEGER)).toEqual([]);
        expect((await store.get(key('a')))?.version).toBe(5);
      });

      it('clears the wake time with the object: a delete, and a new object under the key has none', async ({ skip }) => {
        const due = dueOf(skip);
        await seed([put(key('a'), {}, { wakeAt: 10 }), put(key('b'), {}, { wakeAt: 20 })]);
        await store.apply([del(key('a'), 1)]);
        expect(found(await due(100))).toEqual([['b', 20, 1]]);
        await store.apply([put(key('a'), {}, { expectedVersion: 0 })]);
        await store.apply([del(key('b'))]);
        expect(await due(100)).toEqual([]);
      });

      it('orders by wake time, then by class, partition and object id', async ({ skip }) => {
        const due = dueOf(skip);
        // Partition 10 after 9 (numbers, not strings); classes and ids in binary (UTF-8 byte) order: 'Z' before 'a' before 'a.b'.
        const tied = [key('y', 'b', 0), key('x', 'a', 10), key('x', 'a', 9), key('z', 'a.b', 0), key('x', 'a', 0), key('x.1', 'a', 0), key('x-', 'a', 0), key('x', 'Z', 0)];
        const names = plainNames ? [] : [key('😀', 'a', 0), key('\uFFFD', 'a', 0), key('é', 'a', 0)];
        await seed([...[...tied, ...names].map((k) => put(k, {}, { wakeAt: 500 })), put(key('late'), {}, { wakeAt: 501 }), put(key('early'), {}, { wakeAt: 2 }), put(key('zero'), {}, { wakeAt: 0 })]);
        const all = await due(1000);
        expect(all.map((o) => [o.key.clsId, o.key.partitionId, o.key.objectId, o.wakeAt])).toEqual([
          ['cls', 0, 'zero', 0],
          ['cls', 0, 'early', 2],
          ['Z', 0, 'x', 500],
          ['a', 0, 'x', 500],
          ['a', 0, 'x-', 500],
          ['a', 0, 'x.1', 500],
          ...(plainNames ? [] : [['a', 0, 'é', 500], ['a', 0, '\uFFFD', 500], ['a', 0, '😀', 500]]),
          ['a', 9, 'x', 500],
          ['a', 10, 'x', 500],
          ['a.b', 0, 'z', 500],
          ['b', 0, 'y', 500],
          ['cls', 0, 'late', 501],
        ]);
        expect(all.every((o) => o.version === 1)).toBe(true);
      });

      it('returns at most limit objects, 100 unless told, the earliest first', async ({ skip }) => {
        const due = dueOf(skip);
        const ids = Array.from({ length: 105 }, (_, i) => `o${String(i).padStart(3, '0')}`);
        // Wake times against the order of the ids, so that only the wake time can put them in order.
        await seed(ids.map((id, i) => put(key(id), {}, { wakeAt: 10_000 - i })));
        const first = await due(10_000);
        expect(first).toHaveLength(100);
        expect(first[0]?.key.objectId).toBe('o104');
        expect(first[99]?.key.objectId).toBe('o005');
        expect(found(await due(10_000, { limit: 2 }))).toEqual([['o104', 9896, 1], ['o103', 9897, 1]]);
        expect(await due(10_000, { limit: 1000 })).toHaveLength(105);
        expect(await due(10_000, {})).toHaveLength(100);
      });

      it('excludes wake times after until, which may be a fraction', async ({ skip }) => {
        const due = dueOf(skip);
        await seed([put(key('a'), {}, { wakeAt: 1000 }), put(key('b'), {}, { wakeAt: 1001 }), put(key('c'), {}, { wakeAt: Number.MAX_SAFE_INTEGER })]);
        expect(found(await due(1000.5))).toEqual([['a', 1000, 1]]);
        expect(found(await due(1001))).toEqual([['a', 1000, 1], ['b', 1001, 1]]);
        expect(await due(999.9)).toEqual([]);
        expect(await due(-1)).toEqual([]);
        expect(await due(-1e300)).toEqual([]);
        expect(found(await due(1e300))).toEqual([['a', 1000, 1], ['b', 1001, 1], ['c', Number.MAX_SAFE_INTEGER, 1]]);
      });

      it('changes no wake time when a batch conflicts', async ({ skip }) => {
        const due = dueOf(skip);
        await seed([put(key('a'), {}, { wakeAt: 10 }), put(key('b'), {}, { wakeAt: 20 })]);
        await conflictsOf(store.apply([put(key('a'), {}, { wakeAt: 999, expectedVersion: 1 }), put(key('c'), {}, { wakeAt: 1 }), del(key('b'), 1), put(key('d'), {}, { expectedVersion: 3 })]));
        await conflictsOf(store.apply([put(key('a'), {}, { wakeAt: null, expectedVersion: 4 })]));
        await conflictsOf(store.apply([statePut(key('b'), 1, {}, {}, { wakeAt: 5 }), statePut(key('a'), 2, {}, {}, { wakeAt: null })], trusted));
        expect(found(await due(1000))).toEqual([['a', 10, 1], ['b', 20, 1]]);
      });

      it('sets, keeps and clears the wake time in trusted batches, by key and by hint', async ({ skip }) => {
        const due = dueOf(skip);
        const o = key('o', 'other', 2);
        await store.apply([statePut(key('a'), 0, { n: 1 }, { n: 1 }, { wakeAt: 30 }), statePut(key('b'), 0, { n: 1 }, { n: 1 })], trusted);
        expect(found(await due(100))).toEqual([['a', 30, 1]]);
        await store.apply([statePut(o, 0, {}, {}, { wakeAt: 60 })], trusted);
        // By key (no hint), within one partition and across partitions: set on b, moved on a and o.
        await store.apply([statePut(key('a'), 1, { n: 2 }, { n: 2 }, { wakeAt: 40 }), statePut(key('b'), 1, { n: 2 }, { n: 2 }, { wakeAt: 20 })], trusted);
        await store.apply([statePut(key('a'), 2, { n: 3 }, { n: 3 }, { wakeAt: 45 }), statePut(o, 1, {}, {}, { wakeAt: 50 })], trusted);
        expect(found(await due(100))).toEqual([['b', 20, 2], ['a', 45, 3], ['o', 50, 2]]);
        // By hint, where the store keeps one: undefined keeps it (defensively), null clears it.
        const [a, b] = await store.getMany([key('a'), key('b')]);
        await store.apply([statePut(key('a'), 3, { n: 4 }, { n: 4 }, { wakeAt: undefined, hint: a?.hint }), statePut(key('b'), 2, { n: 3 }, { n: 3 }, { wakeAt: null, hint: b?.hint })], trusted);
        expect(found(await due(100))).toEqual([['a', 45, 4], ['o', 50, 2]]);
        // Across partitions, by key: undefined keeps, null clears.
        await store.apply([statePut(key('a'), 4, { n: 5 }, { n: 5 }, { wakeAt: null }), statePut(o, 2, {}, {}, { wakeAt: undefined })], trusted);
        expect(found(await due(100))).toEqual([['o', 50, 3]]);
        expect(texts(await store.get(key('a')))).toEqual({ n: '5' });
        // Across partitions, every put saying nothing of it: all kept.
        await store.apply([statePut(key('a'), 5, { n: 6 }, { n: 6 }, { wakeAt: undefined }), statePut(o, 3, {}, {}, { wakeAt: undefined })], trusted);
        expect(found(await due(100))).toEqual([['o', 50, 4]]);
        expect(texts(await store.get(key('a')))).toEqual({ n: '6' });
        // A trusted delete clears it too.
        await store.apply([del(o, 4)], trusted);
        expect(await due(100)).toEqual([]);
      });

      it('refuses a malformed wake time and writes nothing of the batch', async ({ skip }) => {
        dueOf(skip);
        await store.apply([put(key('a'), {}, { wakeAt: 5 })]);
        for (const wakeAt of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '5' as unknown as number, {} as unknown as number]) {
          const error = await rejection(store.apply([put(key('fine'), {}, { wakeAt: 1 }), put(key('a'), {}, { wakeAt })]));
          expect(error).toBeInstanceOf(InvalidArgumentError);
          expect((error as Error).message).toContain('wakeAt');
        }
        expect(await store.get(key('fine'))).toBeUndefined();
        expect(found(await store.due!(100))).toEqual([['a', 5, 1]]);
      });

      it('refuses a malformed until or limit', async ({ skip }) => {
        const due = dueOf(skip);
        for (const until of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '5' as unknown as number, undefined as unknown as number, 5n as unknown as number]) {
          await expectInvalid(due(until), 'until');
        }
        for (const limit of [0, -1, 1001, 1.5, Number.NaN, '10' as unknown as number, null as unknown as number]) {
          await expectInvalid(due(100, { limit }), 'limit');
        }
        await expectInvalid(due(100, 'all' as unknown as DueOptions), 'options');
      });
    });

    describe('close', () => {
      it('is idempotent, and every later call rejects with a non-transient StoreError', async () => {
        await store.apply([put(key('a'))]);
        await store.close();
        await store.close();
        const calls: (() => Promise<unknown>)[] = [
          () => store.get(key('a')),
          () => store.getMany([key('a')]),
          () => store.apply([put(key('b'))]),
          () => store.list('cls', 0),
          () => store.open(),
        ];
        for (const call of calls) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).transient).toBe(false);
          expect((error as StoreError).code).toBe('OAAS_ERR_STORE_FAILED');
        }
      });
    });
  });
}

/**
 * The contract of `applyNow`, for the stores that offer it (those whose
 * writes are synchronous): `apply`'s effects and errors, done before it
 * returns, errors thrown rather than rejected.
 */
export function describeApplyNowContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`store contract, applyNow: ${name}`, () => {
    let store: Store;
    let applyNow: NonNullable<Store['applyNow']>;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
      await store.open();
      expect(store.applyNow, `${name} offers applyNow`).toBeTypeOf('function');
      applyNow = store.applyNow!.bind(store);
    });

    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    /** What `fn` throws (failing the test when it returns). */
    function thrown(fn: () => unknown): unknown {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('expected a throw');
    }

    it('writes a batch before it returns, with the versions apply would resolve with', async () => {
      const versions = applyNow([put(key('a'), { x: '1' }), put(key('b'), { y: '2' })]);
      expect(versions).toEqual([1, 1]);
      expect(applyNow([put(key('a'), { x: '2' }, { expectedVersion: 1 }), del(key('b'), 1)])).toEqual([2, 0]);
      expect(applyNow([])).toEqual([]);
      expect(texts(await store.get(key('a')))).toEqual({ x: '2' });
      expect((await store.get(key('a')))?.version).toBe(2);
      expect(await store.get(key('b'))).toBeUndefined();
    });

    it('throws a ConflictError listing every mismatch, and writes nothing of the batch', async () => {
      applyNow([put(key('a'), { x: '1' })]);
      const error = thrown(() => applyNow([put(key('new')), put(key('a'), { x: '2' }, { expectedVersion: 5 }), put(key('gone'), {}, { expectedVersion: 1 })]));
      expect(error).toBeInstanceOf(ConflictError);
      const conflicts = [...(error as ConflictError).conflicts].sort((p, q) => (p.ref.objectId < q.ref.objectId ? -1 : 1));
      expect(conflicts).toEqual([
        { ref: key('a'), expected: 5, actual: 1 },
        { ref: key('gone'), expected: 1, actual: 0 },
      ]);
      expect(await store.get(key('new'))).toBeUndefined();
      expect(texts(await store.get(key('a')))).toEqual({ x: '1' });
    });

    it('throws an InvalidArgumentError for a malformed batch, and writes nothing of it', async () => {
      const bad: unknown[] = [
        'not an array',
        [put(key('fine')), { kind: 'put', key: { clsId: '', partitionId: 0, objectId: 'a' } }],
        [put(key('fine')), { kind: 'nothing', key: key('b') }],
        [put(key('fine')), put(key('a'), { x: '1' }), del(key('a'))],
        [put(key('fine')), put(key('a'), {}, { expectedVersion: -1 })],
      ];
      for (const ops of bad) {
        const error = thrown(() => applyNow(ops as WriteOp[]));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect((error as InvalidArgumentError).code).toBe('OAAS_ERR_ARGUMENT_INVALID');
      }
      expect(await store.get(key('fine'))).toBeUndefined();
      expect(await store.get(key('a'))).toBeUndefined();
    });

    it('writes a trusted batch from whole state, with its version checks', async () => {
      expect(applyNow([statePut(key('a'), 0, { n: 1 }, { n: 1 })], trusted)).toEqual([1]);
      expect(applyNow([statePut(key('a'), 1, { n: 2 }, { n: 2 })], trusted)).toEqual([2]);
      expect(thrown(() => applyNow([statePut(key('a'), 1, { n: 3 }, { n: 3 })], trusted))).toBeInstanceOf(ConflictError);
      expect(texts(await store.get(key('a')))).toEqual({ n: '2' });
    });

    it('throws a non-transient StoreError once the store is closed', async () => {
      await store.close();
      const error = thrown(() => applyNow([put(key('a'))]));
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).transient).toBe(false);
    });
  });
}
