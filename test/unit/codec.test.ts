import { describe, expect, it } from 'vitest';
import { OaasError, SerializationError } from '../../src/errors.js';
import { ObjectRef } from '../../src/object/object-ref.js';
import { bytesToText, decodeState, encodeState, textToBytes, toStateValue, type ValueLocation } from '../../src/object/codec.js';

const at: ValueLocation = { field: 'f' };

/** Validates, copies, encodes and decodes a value, as a field write followed by a commit and a load does. */
function roundTrip(value: unknown): unknown {
  return decodeState(encodeState(toStateValue(value, at)));
}

/** Runs `fn` and returns the SerializationError it throws (failing the test if it throws anything else). */
function refusal(fn: () => unknown): SerializationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    const e = error as SerializationError;
    expect(e.code).toBe('OAAS_ERR_STATE_UNSERIALIZABLE');
    return e;
  }
  throw new Error('expected a SerializationError, but nothing was thrown');
}

describe('codec round-trips', () => {
  it('keeps strings, including empty, unicode, quotes and lone surrogates', () => {
    for (const s of ['', 'plain', 'ünïcødé ✓ 😀', 'quote " and \\ backslash\nnewline', '\uD800 lone', '{"$t":"u"}']) {
      expect(roundTrip(s)).toBe(s);
      expect(decodeState(encodeState(s))).toBe(s);
    }
  });

  it('keeps finite numbers, large and small, and turns -0 into 0', () => {
    for (const n of [0, 1, -1, 3.25, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, -1e-7]) {
      expect(roundTrip(n)).toBe(n);
    }
    expect(encodeState(-0)).toBe('0');
    expect(Object.is(roundTrip(-0), 0)).toBe(true);
    const nested = roundTrip({ a: [-0], b: -0 }) as { a: number[]; b: number };
    expect(Object.is(nested.a[0], 0)).toBe(true);
    expect(Object.is(nested.b, 0)).toBe(true);
  });

  it('keeps booleans and null', () => {
    expect(roundTrip(true)).toBe(true);
    expect(roundTrip(false)).toBe(false);
    expect(roundTrip(null)).toBeNull();
    expect(roundTrip([null, false, true])).toEqual([null, false, true]);
  });

  it('keeps undefined at the top level and nested in arrays and objects (keys included)', () => {
    expect(encodeState(undefined)).not.toBe('');
    expect(roundTrip(undefined)).toBeUndefined();
    const arr = roundTrip([1, undefined, 3]) as unknown[];
    expect(arr).toHaveLength(3);
    expect(1 in arr).toBe(true);
    expect(arr[1]).toBeUndefined();
    const obj = roundTrip({ a: undefined, b: 1 }) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual(['a', 'b']);
    expect(obj.a).toBeUndefined();
  });

  it('fills holes of sparse arrays with undefined', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const out = roundTrip(sparse) as unknown[];
    expect(out).toHaveLength(3);
    expect(1 in out).toBe(true);
    expect(out[1]).toBeUndefined();
  });

  it('keeps bigints, small and beyond 64 bits, positive and negative', () => {
    for (const b of [0n, 1n, -1n, 2n ** 70n, -(3n ** 50n)]) {
      const out = roundTrip(b);
      expect(typeof out).toBe('bigint');
      expect(out).toBe(b);
    }
    expect(roundTrip({ big: 12345678901234567890n })).toEqual({ big: 12345678901234567890n });
  });

  it('keeps Dates to the millisecond, as Dates', () => {
    const d = new Date('2024-02-29T12:34:56.789Z');
    const out = roundTrip(d);
    expect(out).toBeInstanceOf(Date);
    expect((out as Date).getTime()).toBe(d.getTime());
    expect(out).not.toBe(d);
    expect((roundTrip([new Date(0)]) as Date[])[0]!.getTime()).toBe(0);
  });

  it('keeps a Uint8Array as a Uint8Array (not a Buffer), views included', () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    const out = roundTrip(bytes) as Uint8Array;
    expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
    expect(Buffer.isBuffer(out)).toBe(false);
    expect([...out]).toEqual([0, 1, 2, 254, 255]);

    const view = new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4);
    const viewOut = roundTrip(view) as Uint8Array;
    expect(Buffer.isBuffer(viewOut)).toBe(false);
    expect([...viewOut]).toEqual([8, 7, 6]);

    const copy = toStateValue(bytes, at) as Uint8Array;
    expect(Buffer.isBuffer(copy)).toBe(false);
    expect(copy).not.toBe(bytes);
  });

  it('keeps a Buffer as a Buffer', () => {
    const buf = Buffer.from('héllo');
    const copy = toStateValue(buf, at);
    expect(Buffer.isBuffer(copy)).toBe(true);
    expect(copy).not.toBe(buf);
    const out = roundTrip(buf);
    expect(Buffer.isBuffer(out)).toBe(true);
    expect((out as Buffer).toString()).toBe('héllo');
    expect(Buffer.isBuffer(roundTrip(Buffer.alloc(0)))).toBe(true);
  });

  it('keeps Maps with non-string keys and nested values, in insertion order', () => {
    const objKey = { k: 1 };
    const map = new Map<unknown, unknown>([
      [1, 'one'],
      ['1', 'string one'],
      [true, new Set([1, 2])],
      [null, [new Date(5)]],
      [10n, new Map([['inner', { deep: [1, 2] }]])],
      [objKey, undefined],
    ]);
    const out = roundTrip(map) as Map<unknown, unknown>;
    expect(out).toBeInstanceOf(Map);
    expect(out.size).toBe(6);
    expect(out.get(1)).toBe('one');
    expect(out.get('1')).toBe('string one');
    expect(out.get(true)).toEqual(new Set([1, 2]));
    expect((out.get(null) as Date[])[0]!.getTime()).toBe(5);
    expect(out.get(10n)).toEqual(new Map([['inner', { deep: [1, 2] }]]));
    const keys = [...out.keys()];
    expect(keys.slice(0, 5)).toEqual([1, '1', true, null, 10n]);
    expect(keys[5]).toEqual({ k: 1 });
    expect(keys[5]).not.toBe(objKey);
    expect(out.has(keys[5])).toBe(true);
    expect(out.get(keys[5])).toBeUndefined();
  });

  it('keeps Sets, in insertion order', () => {
    const set = new Set<unknown>(['b', 'a', 3, null, undefined, [1]]);
    const out = roundTrip(set) as Set<unknown>;
    expect(out).toBeInstanceOf(Set);
    expect([...out]).toEqual(['b', 'a', 3, null, undefined, [1]]);
  });

  it('keeps nested plain objects and arrays', () => {
    const value = { name: 'x', list: [1, [2, [3, { four: 4 }]]], empty: {}, none: [], profile: { tags: ['a', 'b'], address: { city: 'Oslo' } } };
    expect(roundTrip(value)).toEqual(value);
    expect(roundTrip([[], [[]], {}])).toEqual([[], [[]], {}]);
  });

  it('lets the same (non-cyclic) object appear twice', () => {
    const shared = { n: 1 };
    expect(roundTrip({ a: shared, b: shared, list: [shared, shared] })).toEqual({ a: { n: 1 }, b: { n: 1 }, list: [{ n: 1 }, { n: 1 }] });
  });

  it('keeps objects that have a $t key unchanged, however they look', () => {
    for (const value of [
      { $t: 'u' },
      { $t: 'n', v: '5' },
      { $t: 'o', v: { $t: 'r' } },
      { $t: 'unknown', other: 1 },
      { $t: 1 },
      { outer: { $t: 'd', v: '2020-01-01T00:00:00.000Z' } },
      [{ $t: 'm', v: [] }],
      new Map([['k', { $t: 's', v: [] }]]),
    ]) {
      expect(roundTrip(value)).toEqual(value);
    }
  });

  it('accepts null-prototype objects and keeps their content', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    bare.nested = Object.assign(Object.create(null) as object, { b: [2] });
    const copy = toStateValue(bare, at) as Record<string, unknown>;
    expect(copy).not.toBe(bare);
    expect(roundTrip(bare)).toEqual({ a: 1, nested: { b: [2] } });
  });

  it('keeps an own __proto__ key as data without touching the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const out = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ polluted: true });
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('keeps ObjectRefs as ObjectRefs', () => {
    const ref = new ObjectRef('pkg.Cls', 3, 'obj-1');
    expect(toStateValue(ref, at)).toBe(ref);
    const out = roundTrip(ref);
    expect(out).toBeInstanceOf(ObjectRef);
    expect((out as ObjectRef).equals(ref)).toBe(true);
    const nested = roundTrip({ friends: [ref], byId: new Map([['x', ref]]) }) as { friends: ObjectRef[]; byId: Map<string, ObjectRef> };
    expect(nested.friends[0]).toBeInstanceOf(ObjectRef);
    expect(nested.byId.get('x')!.toString()).toBe('pkg.Cls/3/obj-1');
  });

  it('never lets a ref exist that could not be read back', () => {
    // ObjectRef refuses malformed identities up front, so no such ref reaches the codec or the store.
    const bad: [unknown, unknown, unknown][] = [
      [42, 0, 'x'],
      ['', 0, 'x'],
      ['pkg.Cls', Number.NaN, 'x'],
      ['pkg.Cls', -1, 'x'],
      ['pkg.Cls', 0, undefined],
      ['pkg.Cls', 0, 'Not An Id'],
    ];
    for (const [clsId, partitionId, objectId] of bad) {
      expect(() => new ObjectRef(clsId as string, partitionId as number, objectId as string)).toThrow(OaasError);
    }
    const good = new ObjectRef('pkg.Cls', 3, 'ok-1');
    expect(decodeState(encodeState(toStateValue({ friend: good }, at)))).toEqual({ friend: good });
  });

  it('produces JSON text that other tools can read', () => {
    const text = encodeState({ a: 1, when: new Date(0), list: ['x'] });
    expect(() => {
      JSON.parse(text);
    }).not.toThrow();
    expect(JSON.parse(text)).toEqual({ a: 1, when: { $t: 'd', v: '1970-01-01T00:00:00.000Z' }, list: ['x'] });
    expect(bytesToText(textToBytes(text))).toBe(text);
  });
});

describe('toStateValue copies', () => {
  it('returns a copy that later changes to the input do not reach', () => {
    const date = new Date(1000);
    const bytes = new Uint8Array([1, 2, 3]);
    const input = {
      list: [1, { n: 1 }],
      when: date,
      bytes,
      map: new Map<string, number[]>([['k', [1]]]),
      set: new Set([1]),
      nested: { deep: { value: 'before' } },
    };
    const copy = toStateValue(input, at) as typeof input;
    input.list.push(2);
    (input.list[1] as { n: number }).n = 99;
    date.setTime(5000);
    bytes[0] = 200;
    input.map.get('k')!.push(2);
    input.map.set('other', []);
    input.set.add(2);
    input.nested.deep.value = 'after';

    expect(copy.list).toEqual([1, { n: 1 }]);
    expect(copy.when.getTime()).toBe(1000);
    expect([...copy.bytes]).toEqual([1, 2, 3]);
    expect(copy.map).toEqual(new Map([['k', [1]]]));
    expect([...copy.set]).toEqual([1]);
    expect(copy.nested.deep.value).toBe('before');
  });

  it('returns primitives as they are', () => {
    for (const v of ['s', 1, true, null, undefined, 5n]) expect(toStateValue(v, at)).toBe(v);
  });
});

describe('toStateValue refusals', () => {
  const Foo = class Foo {};

  it.each([
    ['a function', () => 1, /function/],
    ['an async function', async () => Promise.resolve(1), /function/],
    ['a symbol', Symbol('s'), /symbol/],
    ['NaN', Number.NaN, /NaN/],
    ['Infinity', Number.POSITIVE_INFINITY, /Infinity/],
    ['-Infinity', Number.NEGATIVE_INFINITY, /Infinity/],
    ['a class instance', new Foo(), /Foo/],
    ['a RegExp', /x/g, /RegExp/],
    ['a Float64Array', new Float64Array(2), /Float64Array/],
    ['an Error', new Error('x'), /Error/],
    ['a Promise', Promise.resolve(1), /Promise/],
    ['a WeakMap', new WeakMap(), /WeakMap/],
    ['an invalid Date', new Date(Number.NaN), /invalid Date/],
  ])('refuses %s at the top level, with the field as path', (_label, value, message) => {
    const e = refusal(() => toStateValue(value, at));
    expect(e.path).toBe('f');
    expect(e.message).toMatch(message);
  });

  it('refuses an Array subclass', () => {
    class Tags extends Array<string> {}
    const e = refusal(() => toStateValue({ tags: Tags.from(['a']) }, at));
    expect(e.path).toBe('f.tags');
  });

  it('refuses cycles through objects, arrays and Maps', () => {
    const obj: Record<string, unknown> = { a: 1 };
    obj.self = obj;
    expect(refusal(() => toStateValue(obj, at)).path).toBe('f.self');

    const arr: unknown[] = [1];
    arr.push([arr]);
    expect(refusal(() => toStateValue(arr, at)).path).toBe('f[1][0]');

    const map = new Map<string, unknown>();
    map.set('me', { back: map });
    const e = refusal(() => toStateValue(map, at));
    expect(e.path).toBe('f.me.back');
    expect(e.message).toMatch(/cycle/);
  });

  it('refuses enumerable symbol keys', () => {
    const e = refusal(() => toStateValue({ a: 1, [Symbol('s')]: 2 }, at));
    expect(e.message).toMatch(/symbol keys/);
    expect(e.path).toBe('f');
    expect(() => toStateValue({ nested: { [Symbol('t')]: 1 } }, at)).toThrow(SerializationError);
  });

  it('names the nested path of the offending value', () => {
    const profile = { tags: ['a', 'b', () => 'c'] };
    expect(refusal(() => toStateValue(profile, { field: 'profile' })).path).toBe('profile.tags[2]');
    expect(refusal(() => toStateValue([{ x: [0, Number.NaN] }], { field: 'rows' })).path).toBe('rows[0].x[1]');
    expect(refusal(() => toStateValue(new Map([['k', { v: Symbol('s') }]]), { field: 'm' })).path).toBe('m.k.v');
    expect(refusal(() => toStateValue(new Set(['ok', () => 1]), { field: 's' })).path).toBe('s[1]');
  });

  it('names the class and the object id when the location gives them', () => {
    const e = refusal(() => toStateValue({ tags: [1, 2, () => 3] }, { clsId: 'shop.Cart', objectId: 'cart-7', field: 'profile' }));
    expect(e.clsId).toBe('shop.Cart');
    expect(e.objectId).toBe('cart-7');
    expect(e.path).toBe('profile.tags[2]');
    expect(e.message).toContain('shop.Cart/cart-7');
    expect(e.message).toContain('profile.tags[2]');

    const noObject = refusal(() => toStateValue(Number.NaN, { clsId: 'shop.Cart', field: 'total' }));
    expect(noObject.message).toContain('shop.Cart');
    expect(noObject.objectId).toBeUndefined();
  });
});

describe('decoding malformed entries', () => {
  it.each([
    ['text that is not JSON', '{not json'],
    ['an empty entry', ''],
    ['an unknown tag', '{"$t":"zz","v":1}'],
    ['a map tag without an array', '{"$t":"m","v":{"a":1}}'],
    ['a map entry that is not a pair', '{"$t":"m","v":[[1,2,3]]}'],
    ['a set tag without an array', '{"$t":"s","v":5}'],
    ['a ref tag without its id', '{"$t":"r","c":"pkg.Cls","p":0}'],
    ['a ref tag with a string partition', '{"$t":"r","c":"pkg.Cls","p":"0","i":"x"}'],
    ['a bigint tag without a string', '{"$t":"n","v":5}'],
    ['a date tag without a string', '{"$t":"d"}'],
    ['a bytes tag without a string', '{"$t":"b","v":[1]}'],
    ['an escaped-object tag without an object', '{"$t":"o","v":[1]}'],
    ['a malformed tag nested deep inside', '{"a":[{"b":{"$t":"q"}}]}'],
  ])('refuses %s with a SerializationError', (_label, text) => {
    const e = refusal(() => decodeState(text));
    expect(e.path).toBe('<stored entry>');
  });

  it('refuses a bigint tag whose value is not an integer', () => {
    refusal(() => decodeState('{"$t":"n","v":"12abc"}'));
  });

  it('refuses a date tag whose value is not a date', () => {
    refusal(() => decodeState('{"$t":"d","v":"not a date"}'));
  });

  it('refuses bytes that are not UTF-8', () => {
    const e = refusal(() => bytesToText(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    expect(e.message).toMatch(/UTF-8/);
    refusal(() => bytesToText(new Uint8Array([0xc3])));
  });
});
