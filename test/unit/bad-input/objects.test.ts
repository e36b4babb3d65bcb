// Malformed input to creating, loading and writing objects, and ObjectRef: a typed error, and nothing changed (see support.ts).
import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ClassNotFoundError,
  InvalidArgumentError,
  InvalidIdError,
  OaasError,
  ObjectDetachedError,
  ObjectNotFoundError,
  ObjectRef,
  SerializationError,
  commitAll,
} from '../../../src/index.js';
import { check, thrown, rejection, ARG, DETACHED, ID, CLS, SER, runtime, snapshot, BadCounter, Unregistered, cyclic, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

describe('Cls.create', () => {
  it.each([
    ['empty', ''],
    ['upper case', 'UPPER'],
    ['with a space', 'has space'],
    ['with a slash', 'a/b'],
    ['161 characters', 'x'.repeat(161)],
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['unsafe', 2 ** 53],
    ['an object', {}],
    ['null', null],
    ['a boolean', true],
  ])('refuses an id that is %s, leaving nothing behind', (_label, id) => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create({ count: 1 }, { id: id as never })), InvalidIdError, ID);
    expect(e.id).toBe(id);
    expect(snapshot()).toEqual(s);
  });

  it('accepts the boundary ids', () => {
    expect(BadCounter.create({}, { id: 'x'.repeat(160) }).id).toBe('x'.repeat(160));
    expect(BadCounter.create({}, { id: 0 }).id).toBe('0');
    expect(BadCounter.create({}, { id: 'a.b_c:d-9' }).id).toBe('a.b_c:d-9');
  });

  it.each([
    ['a string', 'abc'],
    ['a number', 42],
    ['an array', [1]],
    ['null', null],
    ['a boolean', true],
    ['a function', () => ({ count: 1 })],
  ])('refuses init that is %s', (_label, init) => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create(init as never, { id: 'init-target' })), InvalidArgumentError, ARG);
    expect(e.argument).toBe('init');
    expect(snapshot()).toEqual(s);
    expect(BadCounter.create({}, { id: 'init-target' }).count).toBe(0);
  });

  it('refuses init that is a Map instead of silently ignoring its entries', () => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create(new Map([['count', 5]]) as never, { id: 'map-init' })), InvalidArgumentError, ARG);
    expect(e.argument).toBe('init');
    expect(snapshot()).toEqual(s);
  });

  it.each([
    ['an unknown field', { nope: 1 }],
    ['a _-prefixed property', { _scratch: 'x' }],
    ['an SDK member', { id: 'other' }],
    ['a method name', { increment: 1 }],
  ])('refuses init with %s and does not take the id', (_label, init) => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create(init as never, { id: 'field-target' })), InvalidArgumentError, ARG);
    expect(e.argument).toBe('init');
    expect(e.message).toContain(Object.keys(init)[0]);
    expect(snapshot()).toEqual(s);
    expect(BadCounter.create({ count: 2 }, { id: 'field-target' }).count).toBe(2);
  });

  it.each([
    ['a function', { count: () => 1 }, 'count'],
    ['NaN', { count: Number.NaN }, 'count'],
    ['a class instance', { tags: [new (class Foo {})()] }, 'tags[0]'],
    ['a cycle', { tags: cyclic() }, 'tags[0]'],
  ])('refuses init with %s as a value, naming class, object and path', (_label, init, path) => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create(init as never, { id: 'value-target' })), SerializationError, SER);
    expect(e.path).toBe(path);
    expect(e.clsId).toBe('unit_bad.BadCounter');
    expect(e.objectId).toBe('value-target');
    expect(e.message).toContain('unit_bad.BadCounter/value-target');
    expect(snapshot()).toEqual(s);
    expect(BadCounter.create({}, { id: 'value-target' }).count).toBe(0);
  });

  it.each([
    ['-1', -1],
    ['1.5', 1.5],
    ["'0'", '0'],
    ['NaN', Number.NaN],
    ['null', null],
  ])('refuses partitionId %s', (_label, partitionId) => {
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create({}, { id: 'p', partitionId: partitionId as never })), InvalidArgumentError, ARG);
    expect(e.argument).toBe('partitionId');
    expect(snapshot()).toEqual(s);
  });

  it('refuses options that are not an object', () => {
    const s = snapshot();
    expect(check(thrown(() => BadCounter.create({}, 'id-1' as never)), InvalidArgumentError, ARG).argument).toBe('options');
    expect(check(thrown(() => BadCounter.create({}, null as never)), InvalidArgumentError, ARG).argument).toBe('options');
    expect(snapshot()).toEqual(s);
  });

  it('refuses an id that is taken and leaves the existing object alone', () => {
    const first = BadCounter.create({ count: 1 }, { id: 'taken' });
    const s = snapshot();
    const e = check(thrown(() => BadCounter.create({ count: 99 }, { id: 'taken' })), AlreadyExistsError, 'OAAS_ERR_OBJECT_EXISTS');
    expect(e.refs).toEqual([{ clsId: 'unit_bad.BadCounter', partitionId: 0, objectId: 'taken' }]);
    expect(first.count).toBe(1);
    expect(snapshot()).toEqual(s);
  });

  it('refuses a class that is not registered', () => {
    const s = snapshot();
    check(thrown(() => Unregistered.create()), ClassNotFoundError, CLS);
    expect(snapshot()).toEqual(s);
  });
});

describe('Cls.load', () => {
  it.each([
    ['empty', ''],
    ['upper case', 'UPPER'],
    ['negative', -1],
    ['an object', {}],
  ])('refuses an id that is %s', async (_label, id) => {
    check(await rejection(() => BadCounter.load(id as never)), InvalidIdError, ID);
  });

  it.each([
    ['-1', -1],
    ['1.5', 1.5],
    ["'0'", '0'],
  ])('refuses partitionId %s', async (_label, partitionId) => {
    const e = check(await rejection(() => BadCounter.load('x', { partitionId: partitionId as never })), InvalidArgumentError, ARG);
    expect(e.argument).toBe('partitionId');
  });

  it('refuses options that are not an object', async () => {
    expect(check(await rejection(() => BadCounter.load('x', 7 as never)), InvalidArgumentError, ARG).argument).toBe('options');
  });

  it('rejects a missing object with ObjectNotFoundError and can create it afterwards', async () => {
    const s = snapshot();
    const e = check(await rejection(() => BadCounter.load('ghost', { partitionId: 2 })), ObjectNotFoundError, 'OAAS_ERR_OBJECT_NOT_FOUND');
    expect(e.ref).toEqual({ clsId: 'unit_bad.BadCounter', partitionId: 2, objectId: 'ghost' });
    expect(snapshot().pending).toBe(s.pending);
    check(await rejection(() => BadCounter.load('ghost', { partitionId: 2 })), ObjectNotFoundError, 'OAAS_ERR_OBJECT_NOT_FOUND');
    expect(BadCounter.create({}, { id: 'ghost', partitionId: 2 }).partitionId).toBe(2);
  });

  it('refuses a class that is not registered', async () => {
    check(await rejection(() => Unregistered.load('x')), ClassNotFoundError, CLS);
  });
});

describe('state writes', () => {
  it.each([
    ['a function', () => 1],
    ['a class instance', new (class Foo {})()],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a symbol', Symbol('s')],
    ['a RegExp', /x/],
  ])('assigning %s to a field throws SerializationError and keeps the old value', async (_label, value) => {
    const obj = BadCounter.create({ count: 7 }, { id: 'assigned' });
    await commitAll();
    const s = snapshot();
    const e = check(
      thrown(() => {
        (obj as unknown as Record<string, unknown>).count = value;
      }),
      SerializationError,
      SER,
    );
    expect(e.path).toBe('count');
    expect(e.message).toContain('unit_bad.BadCounter/assigned');
    expect(obj.count).toBe(7);
    expect(snapshot()).toEqual(s);
    expect(runtime().pendingObjectCount).toBe(0);
  });

  it('a nested non-storable value is refused with its path, and the collection is unchanged', async () => {
    const obj = BadCounter.create({}, { id: 'nested' });
    await commitAll();
    const e = check(
      thrown(() => {
        obj.tags.push((() => 'c') as never);
      }),
      SerializationError,
      SER,
    );
    expect(e.path).toBe('tags[2]');
    expect([...obj.tags]).toEqual(['a', 'b']);
    check(thrown(() => obj.scores.set('k', Number.NaN)), SerializationError, SER);
    expect(obj.scores.size).toBe(0);
    expect(runtime().pendingObjectCount).toBe(0);
  });

  it('members of an instance made with new throw ObjectDetachedError', async () => {
    const loose = new BadCounter();
    expect(check(thrown(() => loose.id), ObjectDetachedError, DETACHED).member).toBe('id');
    check(thrown(() => loose.partitionId), ObjectDetachedError, DETACHED);
    check(thrown(() => loose.clsId), ObjectDetachedError, DETACHED);
    check(thrown(() => loose.version), ObjectDetachedError, DETACHED);
    check(thrown(() => loose.asRef()), ObjectDetachedError, DETACHED);
    check(await rejection(() => loose.delete()), ObjectDetachedError, DETACHED);
    check(await rejection(() => loose.checkpoint()), ObjectDetachedError, DETACHED);
  });

  it('checkpoint() outside a @method is refused', async () => {
    const obj = BadCounter.create({}, { id: 'cp' });
    expect(check(await rejection(() => obj.checkpoint()), InvalidArgumentError, ARG).argument).toBe('checkpoint');
  });
});

describe('ObjectRef', () => {
  it('load() of a ref with a bad id or an unknown class rejects with a typed error', async () => {
    check(await rejection(() => new ObjectRef('unit_bad.BadCounter', 0, 'Bad Id').load()), InvalidIdError, ID);
    check(await rejection(() => new ObjectRef('unit_bad.Nope', 0, 'x').load()), ClassNotFoundError, CLS);
    check(await rejection(() => new ObjectRef('unit_bad.BadCounter', 0, 'nobody').load()), ObjectNotFoundError, 'OAAS_ERR_OBJECT_NOT_FOUND');
  });

  it('the constructor refuses malformed parts with a typed error', () => {
    const cases: [string, unknown[]][] = [
      ['an empty class id', ['', 0, 'x']],
      ['a non-string class id', [42, 0, 'x']],
      ['a negative partition', ['unit_bad.BadCounter', -1, 'x']],
      ['a NaN partition', ['unit_bad.BadCounter', Number.NaN, 'x']],
      ['an invalid object id', ['unit_bad.BadCounter', 0, 'Not Valid']],
    ];
    const accepted = cases
      .filter(([, args]) => {
        const [clsId, partitionId, objectId] = args as [string, number, string];
        try {
          void new ObjectRef(clsId, partitionId, objectId);
          return true;
        } catch (error) {
          expect(error).toBeInstanceOf(OaasError);
          expect([ARG, ID]).toContain((error as OaasError).code);
          return false;
        }
      })
      .map(([label]) => label);
    expect(accepted, 'malformed refs the constructor accepted').toEqual([]);
  });
});
