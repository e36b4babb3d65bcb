// Malformed input to the manual API: Oparaca and LegacySessionAdapter: a typed error, and nothing changed (see support.ts).
import { describe, expect, it } from 'vitest';
import {
  ClassNotFoundError,
  ConfigurationError,
  InvalidArgumentError,
  InvalidIdError,
  LegacySessionAdapter,
  ObjectNotFoundError,
  Oparaca,
  commitAll,
  newSession,
  type InvocationRequest,
} from '../../../src/index.js';
import { check, thrown, rejection, ARG, ID, CLS, runtime, snapshot, errorBody, expectInvalid, BadCounter, Unregistered, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

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
