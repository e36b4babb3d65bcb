// Malformed input to sessions, scopes, commit listeners, shutdown and the runtime's own methods: a typed error, and nothing changed (see support.ts).
import { describe, expect, it, vi } from 'vitest';
import {
  ClassNotFoundError,
  InvalidArgumentError,
  InvalidIdError,
  ObjectNotFoundError,
  commitAll,
  configureOaas,
  newSession,
  onCommitError,
  runInSession,
  sessionScope,
  shutdown,
} from '../../../src/index.js';
import { check, thrown, rejection, ARG, ID, CLS, runtime, snapshot, BadCounter, Unregistered, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

describe('sessionScope, runInSession, onCommitError, shutdown', () => {
  it.each([
    ['a string', 'fn'],
    ['null', null],
    ['an object', {}],
  ])('sessionScope refuses %s as its function', async (_label, fn) => {
    const e = check(await rejection(() => sessionScope(fn as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('fn');
  });

  it.each([
    ['null options', null, 'options'],
    ['a bad isolation', { isolation: 'chaos' }, 'isolation'],
    ['lockTimeoutMs 0', { lockTimeoutMs: 0 }, 'lockTimeoutMs'],
    ['a fractional lockTimeoutMs', { lockTimeoutMs: 2.5 }, 'lockTimeoutMs'],
    ['retries -1', { retries: -1 }, 'retries'],
    ['retries NaN', { retries: Number.NaN }, 'retries'],
    ['partitionId -1', { partitionId: -1 }, 'partitionId'],
  ])('sessionScope refuses %s without running the function', async (_label, options, argument) => {
    const fn = vi.fn(() => {
      BadCounter.create({}, { id: 'in-scope' });
    });
    const s = snapshot();
    const e = check(await rejection(() => sessionScope(fn, options as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe(argument);
    expect(fn).not.toHaveBeenCalled();
    expect(snapshot()).toEqual(s);
    // The runtime still takes scopes afterwards.
    await sessionScope(() => BadCounter.create({}, { id: 'after-scope' }));
    expect((await BadCounter.load('after-scope')).version).toBe(1);
  });

  it.each([
    ['a string', 'fn'],
    ['undefined', undefined],
    ['a promise', Promise.resolve(1)],
  ])('runInSession refuses %s', async (_label, fn) => {
    const e = check(await rejection(() => runInSession(fn as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('fn');
  });

  it.each([
    ['a string', 'listener'],
    ['null', null],
    ['an object', { onError: () => undefined }],
  ])('onCommitError refuses %s', (_label, listener) => {
    const e = check(thrown(() => onCommitError(listener as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('listener');
  });

  it.each([
    ['timeoutMs -1', { timeoutMs: -1 }, 'timeoutMs'],
    ['timeoutMs NaN', { timeoutMs: Number.NaN }, 'timeoutMs'],
    ["timeoutMs '5'", { timeoutMs: '5' }, 'timeoutMs'],
    ['null options', null, 'options'],
    ['a number as options', 5, 'options'],
  ])('shutdown refuses %s and does not shut down', async (_label, options, argument) => {
    const obj = BadCounter.create({ count: 1 }, { id: 'survivor' });
    const s = snapshot();
    const e = check(await rejection(() => shutdown(options as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe(argument);
    expect(runtime().isShutDown).toBe(false);
    expect(snapshot()).toEqual(s);
    obj.count = 2;
    await commitAll();
    expect(obj.version).toBe(1);
  });
});

describe('AutoSessionManager methods', () => {
  it.each([
    ['-1', -1],
    ['1.5', 1.5],
    ["'0'", '0'],
    ['NaN', Number.NaN],
  ])('getSession(%s) is refused', (_label, partitionId) => {
    const e = check(thrown(() => runtime().getSession(partitionId as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('partitionId');
  });

  it('openManualSession refuses a bad partition', () => {
    check(thrown(() => runtime().openManualSession(-1)), InvalidArgumentError, ARG);
  });

  it('createObject refuses a bad id, a bad partition, a non-boolean local flag and an unregistered class', () => {
    const r = runtime();
    const s = snapshot();
    check(thrown(() => r.createObject(BadCounter, 'Bad Id')), InvalidIdError, ID);
    check(thrown(() => r.createObject(BadCounter, -3)), InvalidIdError, ID);
    expect(check(thrown(() => r.createObject(BadCounter, 'ok', 'yes' as never)), InvalidArgumentError, ARG).argument).toBe('local');
    expect(check(thrown(() => r.createObject(BadCounter, 'ok', false, -1)), InvalidArgumentError, ARG).argument).toBe('partitionId');
    check(thrown(() => r.createObject(Unregistered, 'ok')), ClassNotFoundError, CLS);
    check(thrown(() => r.createObject(42 as never, 'ok')), ClassNotFoundError, CLS);
    expect(snapshot()).toEqual(s);
    expect(r.createObject(BadCounter, 'ok').id).toBe('ok');
  });

  it('loadObject refuses a bad id and a missing object', async () => {
    const r = runtime();
    check(await rejection(() => r.loadObject(BadCounter, 'NOPE')), InvalidIdError, ID);
    check(await rejection(() => r.loadObject(BadCounter, 'nope')), ObjectNotFoundError, 'OAAS_ERR_OBJECT_NOT_FOUND');
    check(await rejection(() => r.loadObject(BadCounter, 'nope', -1)), InvalidArgumentError, ARG);
  });

  it('refFor refuses a bad id', () => {
    check(thrown(() => runtime().refFor(BadCounter, 'NO PE')), InvalidIdError, ID);
  });

  it('cleanupSession refuses a session it does not own', async () => {
    const old = runtime().getSession();
    const oldObj = BadCounter.create({}, { id: 'old-runtime' });
    expect(oldObj.id).toBe('old-runtime');
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const r = runtime();
    const mine = BadCounter.create({ count: 1 }, { id: 'mine' });
    const s = snapshot();
    for (const foreign of [old, {}, { id: 'x', commit: async () => undefined }, newSession(), 'session']) {
      const e = check(await rejection(() => r.cleanupSession(foreign as never)), InvalidArgumentError, ARG);
      expect(e.argument).toBe('session');
    }
    expect(snapshot()).toEqual(s);
    await r.cleanupSession();
    expect(mine.version).toBe(1);
  });

  it('withSession refuses a foreign session without running the function', () => {
    const fn = vi.fn();
    check(thrown(() => runtime().withSession({} as never, fn)), InvalidArgumentError, ARG);
    expect(fn).not.toHaveBeenCalled();
  });

  it.each([
    ['a number', 42],
    ['a string', 'obj'],
    ['a plain object', {}],
    ['an instance made with new', new BadCounter()],
    ['null', null],
    ['undefined', undefined],
  ])('scheduleCommit refuses %s', (_label, obj) => {
    const s = snapshot();
    const e = check(thrown(() => runtime().scheduleCommit(obj as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('object');
    expect(snapshot()).toEqual(s);
  });
});
