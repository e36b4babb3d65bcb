/**
 * Every public entry point, called with malformed input, fails with a typed
 * OaasError (class and code checked) and changes nothing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AlreadyExistsError,
  AutoSessionManager,
  ClassNotFoundError,
  ConfigurationError,
  InvalidArgumentError,
  InvalidIdError,
  LegacySessionAdapter,
  MemoryStore,
  OaasError,
  OaasObject,
  ObjectDetachedError,
  ObjectNotFoundError,
  ObjectRef,
  Oparaca,
  RegistrationError,
  SerializationError,
  commitAll,
  configureOaas,
  currentSession,
  field,
  getAutoSessionManager,
  method,
  newSession,
  onCommitError,
  runInSession,
  service,
  sessionScope,
  setAutoCommitInterval,
  shutdown,
  type ErrorCode,
  type InvocationRequest,
  type InvocationResponse,
} from '../../src/index.js';
import { checkedShutdown } from '../support/runtime.js';

// ---------------------------------------------------------------------------
// Helpers

type ErrorClass = abstract new (...args: never[]) => OaasError;

/** Asserts `error` is an instance of `cls` with `code`, and returns it typed. */
function check<E extends OaasError>(error: unknown, cls: abstract new (...args: never[]) => E, code: ErrorCode): E {
  expect(error).toBeInstanceOf(OaasError);
  expect(error).toBeInstanceOf(cls);
  expect((error as OaasError).code).toBe(code);
  return error as E;
}

/** The error a synchronous call throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** The reason a promise rejects with (a synchronous throw counts too: callers see both the same way). */
async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

const ARG = 'OAAS_ERR_ARGUMENT_INVALID';
const DETACHED = 'OAAS_ERR_OBJECT_DETACHED';
const ID = 'OAAS_ERR_ID_INVALID';
const REG = 'OAAS_ERR_REGISTRY_CONFLICT';
const CLS = 'OAAS_ERR_CLASS_NOT_FOUND';
const SER = 'OAAS_ERR_STATE_UNSERIALIZABLE';

function runtime(): AutoSessionManager {
  return getAutoSessionManager();
}

/** What a failed call must leave as it was. */
function snapshot(): { pending: number; pendingSessions: number; live: number; context: number } {
  const r = runtime();
  return { pending: r.pendingObjectCount, pendingSessions: r.pendingSessionCount, live: r.liveObjectCount, context: currentSession().pendingCount };
}

const decoder = new TextDecoder();

function errorBody(response: InvocationResponse): Record<string, unknown> {
  expect(response.payload).toBeInstanceOf(Uint8Array);
  const body = JSON.parse(decoder.decode(response.payload)) as Record<string, unknown>;
  expect(typeof body.error_type).toBe('string');
  expect(typeof body.error_message).toBe('string');
  return body;
}

function expectInvalid(response: InvocationResponse, errorType: string, code: ErrorCode): void {
  expect(response.status).toBe('INVALID_REQUEST');
  const body = errorBody(response);
  expect(body.error_type).toBe(errorType);
  expect(body.code).toBe(code);
}

// ---------------------------------------------------------------------------
// Services

@service('BadCounter', { package: 'unit_bad' })
class BadCounter extends OaasObject {
  count = 0;
  tags: string[] = ['a', 'b'];
  scores = new Map<string, number>();
  _scratch = 'not state';

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }

  @method()
  async add(a: number, b: number): Promise<number> {
    this.count += a + b;
    return this.count;
  }
}

class Unregistered extends OaasObject {
  n = 0;
}

beforeEach(async () => {
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
});

afterEach(async () => {
  await checkedShutdown();
  vi.useRealTimers();
});

// ---------------------------------------------------------------------------

describe('configureOaas', () => {
  it.each([
    ['null', null, 'config'],
    ['a string', 'memory', 'config'],
    ['an array', [], 'config'],
    ['an unknown key', { store: 'memory', colour: 'blue' }, 'colour'],
    ['interval -1', { store: 'memory', autoCommitIntervalMs: -1 }, 'autoCommitIntervalMs'],
    ['a string lockTimeoutMs', { store: 'memory', lockTimeoutMs: '10' }, 'lockTimeoutMs'],
    ['an unknown store', { store: 'nosuch:thing' }, 'store'],
    ['a bad logger', { store: 'memory', logger: {} }, 'logger'],
  ])('rejects %s with ConfigurationError and keeps the previous runtime', async (_label, config, fieldName) => {
    const before = runtime();
    const kept = BadCounter.create({ count: 3 }, { id: 'kept' });
    const s = snapshot();
    const e = check(await rejection(() => configureOaas(config as never)), ConfigurationError, 'OAAS_ERR_CONFIG_INVALID');
    expect(e.field).toBe(fieldName);
    expect(runtime()).toBe(before);
    expect(before.isShutDown).toBe(false);
    expect(snapshot()).toEqual(s);
    await expect(BadCounter.load('kept')).resolves.toBe(kept);
    expect((await commitAll()).committed).toBe(1);
  });
});

describe('setAutoCommitInterval', () => {
  it.each([
    ['0', 0],
    ['-1', -1],
    ['NaN', Number.NaN],
    ["'5'", '5'],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['2^31', 2 ** 31],
    ['undefined', undefined],
  ])('refuses %s', (_label, ms) => {
    const e = check(thrown(() => setAutoCommitInterval(ms as never)), InvalidArgumentError, ARG);
    expect(e.argument).toBe('ms');
  });

  it('keeps the previous interval after a refusal', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await configureOaas({ store: 'memory', autoCommit: true, autoCommitIntervalMs: 1000, logLevel: 'silent' });
    BadCounter.create({}, { id: 'timed' });
    for (const bad of [0, -1, Number.NaN, '5', Number.POSITIVE_INFINITY]) {
      expect(() => setAutoCommitInterval(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(runtime().autoCommitEnabled).toBe(true);
    await vi.advanceTimersByTimeAsync(999);
    await runtime().settled();
    expect(runtime().pendingObjectCount).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await runtime().settled();
    expect(runtime().pendingObjectCount).toBe(0);
  });
});

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

function cyclic(): unknown[] {
  const a: unknown[] = [];
  a.push(a);
  return a;
}

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

describe('decorators', () => {
  class Target extends OaasObject {
    n = 0;
    async run(): Promise<void> {}
  }
  const proto = Target.prototype;
  const desc = Object.getOwnPropertyDescriptor(proto, 'run');

  it.each([
    ['an empty name', ''],
    ['a name with a space', 'bad name'],
    ['a name starting with a digit', '9lives'],
    ['a name with a dot', 'a.b'],
    ['a name that is not a string', 42],
    ['a 101-character name', 'N'.repeat(101)],
  ])('service() refuses %s', (_label, name) => {
    check(thrown(() => service(name as never, { package: 'unit_bad' })(class extends OaasObject {})), RegistrationError, REG);
  });

  it('service() refuses a bad package, bad options, and a non-class', () => {
    check(thrown(() => service('PkgBad', { package: 'bad pkg' })(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', { package: '' })(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', null as never)(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', { package: 'unit_bad' })(42 as never)), RegistrationError, REG);
  });

  it('service() refuses a class that does not extend OaasObject', () => {
    class Plain {
      n = 0;
    }
    const e = check(thrown(() => service('Plain', { package: 'unit_bad' })(Plain)), RegistrationError, REG);
    expect(e.message).toContain('OaasObject');
  });

  it('refuses a class id taken by another class, keeping the first registration', () => {
    class DupA extends OaasObject {
      a = 1;
    }
    class DupB extends OaasObject {
      b = 2;
    }
    service('Dup', { package: 'unit_bad' })(DupA);
    expect(() => service('Dup', { package: 'unit_bad' })(DupA)).not.toThrow();
    const e = check(thrown(() => service('Dup', { package: 'unit_bad' })(DupB)), RegistrationError, REG);
    expect(e.message).toContain('unit_bad.Dup');
    check(thrown(() => service('DupAgain', { package: 'unit_bad' })(DupA)), RegistrationError, REG);
    expect(DupA.create({}, { id: 'a' }).clsId).toBe('unit_bad.Dup');
    check(thrown(() => DupB.create({}, { id: 'b' })), ClassNotFoundError, CLS);
  });

  it.each([
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['timeoutMs -5', { timeoutMs: -5 }],
    ['timeoutMs 1.5', { timeoutMs: 1.5 }],
    ['retries -1', { retries: -1 }],
    ['retries 0.5', { retries: 0.5 }],
    ["retries '2'", { retries: '2' }],
    ['retryDelayMs -1', { retryDelayMs: -1 }],
    ['a bad invocation name', { name: 'bad name' }],
    ['null options', null],
  ])('method() refuses %s', (_label, options) => {
    check(thrown(() => method(options as never)(proto, 'run', desc)), RegistrationError, REG);
  });

  it('method() refuses a symbol member and a property that is not a function', () => {
    check(thrown(() => method()(proto, Symbol('run'), desc)), RegistrationError, REG);
    check(thrown(() => method()(proto, 'n')), RegistrationError, REG);
  });

  it('field() refuses an empty or non-string key and symbol members', () => {
    check(thrown(() => field({ key: '' })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field({ key: 5 as never })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field({ key: 'k'.repeat(201) })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field()(proto, Symbol('n'))), RegistrationError, REG);
  });

  it('refuses a state field named id (or another member) on the first create, leaving nothing behind', () => {
    @service('IdField', { package: 'unit_bad' })
    class IdField extends OaasObject {
      // @ts-expect-error -- on purpose: a state field that shadows the `id` accessor must be refused
      id = 'mine';
      n = 0;
    }
    @service('VersionField', { package: 'unit_bad' })
    class VersionField extends OaasObject {
      // @ts-expect-error -- on purpose: a state field that shadows the `version` accessor must be refused
      version = 1;
    }
    const s = snapshot();
    const e = check(thrown(() => IdField.create({}, { id: 'x' })), RegistrationError, REG);
    expect(e.message).toContain('id');
    check(thrown(() => IdField.create()), RegistrationError, REG);
    check(thrown(() => VersionField.create()), RegistrationError, REG);
    expect(snapshot()).toEqual(s);
  });
});

describe('Oparaca', () => {
  it('refuses options that are not an object', () => {
    expect(check(thrown(() => new Oparaca(null as never)), InvalidArgumentError, ARG).argument).toBe('options');
    expect(check(thrown(() => new Oparaca('mock' as never)), InvalidArgumentError, ARG).argument).toBe('options');
  });

  it('refuses a bad config synchronously and keeps the runtime', () => {
    const before = runtime();
    check(thrown(() => new Oparaca({ config: { store: 'memory', autoCommitIntervalMs: 0 } })), ConfigurationError, 'OAAS_ERR_CONFIG_INVALID');
    check(thrown(() => new Oparaca({ mockMode: 'yes' as never })), ConfigurationError, 'OAAS_ERR_CONFIG_INVALID');
    check(thrown(() => new Oparaca({ config: { nope: 1 } as never })), ConfigurationError, 'OAAS_ERR_CONFIG_INVALID');
    expect(runtime()).toBe(before);
    expect(before.isShutDown).toBe(false);
  });

  it('newCls refuses an empty name or package', () => {
    const oaas = new Oparaca();
    expect(check(thrown(() => oaas.newCls('')), InvalidArgumentError, ARG).argument).toBe('name');
    expect(check(thrown(() => oaas.newCls(7 as never)), InvalidArgumentError, ARG).argument).toBe('name');
    expect(check(thrown(() => oaas.newCls('Fine', '')), InvalidArgumentError, ARG).argument).toBe('pkg');
  });

  it('newSession refuses a bad partition', () => {
    expect(check(thrown(() => new Oparaca().newSession(-1)), InvalidArgumentError, ARG).argument).toBe('partitionId');
    expect(check(thrown(() => newSession(1.5)), InvalidArgumentError, ARG).argument).toBe('partitionId');
  });
});

describe('LegacySessionAdapter', () => {
  it('createObject refuses a ClsMeta that has not decorated a class yet, non-classes and bad ids', async () => {
    const session = newSession();
    expect(session).toBeInstanceOf(LegacySessionAdapter);
    const pending = new Oparaca().newCls('NotYetApplied', 'unit_bad');
    const s = snapshot();
    expect(check(thrown(() => session.createObject(pending)), InvalidArgumentError, ARG).argument).toBe('cls');
    expect(check(thrown(() => session.createObject(42 as never)), InvalidArgumentError, ARG).argument).toBe('cls');
    expect(check(thrown(() => session.createObject({} as never)), InvalidArgumentError, ARG).argument).toBe('cls');
    check(thrown(() => session.createObject(Unregistered)), ClassNotFoundError, CLS);
    check(thrown(() => session.createObject(BadCounter, 'Bad Id')), InvalidIdError, ID);
    check(thrown(() => session.createObject(BadCounter, '')), InvalidIdError, ID);
    expect(check(thrown(() => session.createObject(BadCounter, 'ok', 'yes' as never)), InvalidArgumentError, ARG).argument).toBe('local');
    expect(session.localObjDict.size).toBe(0);
    expect(snapshot()).toEqual(s);
    const made = session.createObject(BadCounter, 'ok');
    await session.commit();
    expect(made.version).toBe(1);
  });

  it('loadObject and deleteObject refuse bad ids and missing objects', async () => {
    const session = newSession();
    check(await rejection(() => session.loadObject(BadCounter, 'Bad Id')), InvalidIdError, ID);
    check(await rejection(() => session.loadObject(BadCounter, 'absent')), ObjectNotFoundError, 'OAAS_ERR_OBJECT_NOT_FOUND');
    check(await rejection(() => session.loadObject(new Oparaca().newCls('AlsoPending', 'unit_bad'), 'x')), InvalidArgumentError, ARG);
    check(thrown(() => session.deleteObject(BadCounter, 'Bad Id')), InvalidIdError, ID);
    check(thrown(() => session.deleteObject(BadCounter, 'ok', -1)), InvalidArgumentError, ARG);
    expect(session.localObjDict.size).toBe(0);
    expect(session.deleteObjSet.size).toBe(0);
  });

  describe('objRpc answers malformed requests with INVALID_REQUEST', () => {
    const base = { clsId: 'unit_bad.BadCounter', fnId: 'increment', partitionId: 0, objectId: 'rpc-target' };

    async function setup(): Promise<{ session: LegacySessionAdapter; target: BadCounter }> {
      const target = BadCounter.create({ count: 5 }, { id: 'rpc-target' });
      await commitAll();
      return { session: newSession(), target };
    }

    it.each([
      ['null', null, 'InvalidArgumentError'],
      ['a string', 'increment', 'InvalidArgumentError'],
      ['a request without clsId', { fnId: 'increment', partitionId: 0, objectId: 'rpc-target' }, 'InvalidArgumentError'],
      ['a request with an empty clsId', { ...base, clsId: '' }, 'InvalidArgumentError'],
      ['a request without fnId', { clsId: base.clsId, partitionId: 0, objectId: 'rpc-target' }, 'InvalidArgumentError'],
      ['a request without partitionId', { clsId: base.clsId, fnId: 'increment', objectId: 'rpc-target' }, 'InvalidArgumentError'],
      ['a negative partitionId', { ...base, partitionId: -1 }, 'InvalidArgumentError'],
      ['a numeric objectId', { ...base, objectId: 42 }, 'InvalidArgumentError'],
      ['an invalid objectId', { ...base, objectId: 'Not Valid' }, 'InvalidIdError'],
      ['a payload that is a number', { ...base, payload: 5 }, 'InvalidArgumentError'],
      ['a malformed JSON payload', { ...base, payload: '{"by": ' }, 'InvalidArgumentError'],
      ['malformed JSON bytes', { ...base, payload: new TextEncoder().encode('nope') }, 'InvalidArgumentError'],
      ['a multi-argument method with a non-array payload', { ...base, fnId: 'add', payload: '3' }, 'InvalidArgumentError'],
      ['an unknown class', { ...base, clsId: 'unit_bad.NoSuchClass' }, 'ClassNotFoundError'],
      ['an unknown method', { ...base, fnId: 'noSuchMethod' }, 'MethodNotFoundError'],
      ['a non-stateless method without objectId', { clsId: base.clsId, fnId: 'increment', partitionId: 0 }, 'InvalidArgumentError'],
    ])('%s', async (_label, request, errorType) => {
      const { session, target } = await setup();
      const s = snapshot();
      const response = await session.objRpc(request as InvocationRequest);
      expect(response.status).toBe('INVALID_REQUEST');
      const body = errorBody(response);
      expect(body.error_type).toBe(errorType);
      expect(body.code).toBe(({ InvalidIdError: ID, ClassNotFoundError: CLS, MethodNotFoundError: 'OAAS_ERR_METHOD_NOT_FOUND' } as Record<string, string>)[errorType] ?? ARG);
      expect(Object.keys(body).sort()).toEqual(['code', 'error_message', 'error_type']);
      expect(target.count).toBe(5);
      expect(snapshot()).toEqual(s);
    });

    it('a missing object', async () => {
      const { session } = await setup();
      expectInvalid(await session.objRpc({ ...base, objectId: 'not-there' }), 'ObjectNotFoundError', 'OAAS_ERR_OBJECT_NOT_FOUND');
      expectInvalid(await session.fnRpc({ ...base, objectId: 'not-there' }), 'ObjectNotFoundError', 'OAAS_ERR_OBJECT_NOT_FOUND');
      expectInvalid(await session.invokeLocal({ ...base, objectId: 'not-there' }), 'ObjectNotFoundError', 'OAAS_ERR_OBJECT_NOT_FOUND');
    });
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

describe('MemoryStore', () => {
  const store = new MemoryStore();
  const cls = (error: unknown, expected: ErrorClass): void => {
    expect(error).toBeInstanceOf(expected);
    expect((error as OaasError).code).toBe(ARG);
  };

  it('refuses malformed keys, batches and list options', async () => {
    cls(await rejection(() => store.get({} as never)), InvalidArgumentError);
    cls(await rejection(() => store.get({ clsId: 'c', partitionId: -1, objectId: 'x' })), InvalidArgumentError);
    cls(await rejection(() => store.getMany('keys' as never)), InvalidArgumentError);
    cls(await rejection(() => store.apply('ops' as never)), InvalidArgumentError);
    cls(await rejection(() => store.apply([{ kind: 'upsert' } as never])), InvalidArgumentError);
    cls(await rejection(() => store.list('', 0)), InvalidArgumentError);
    cls(await rejection(() => store.list('c', 0, { limit: 0 })), InvalidArgumentError);
    cls(await rejection(() => store.list('c', 0, { cursor: '!!' })), InvalidArgumentError);
    expect((await store.list('c', 0)).objects).toEqual([]);
  });
});
