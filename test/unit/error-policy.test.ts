/**
 * One policy from the error table: the kind of a code decides the status a
 * failed invocation answers, in process and through a server alike, and the
 * reply body is built in one place.
 */
import { describe, expect, it } from 'vitest';
import { ApplicationError, ERROR_CODES, OaasError, type ErrorCode } from '../../src/errors.js';
import { fromWireError } from '../../src/wire-errors.js';
import { OaasObject, RemoteError, UnauthorizedError, getStats, method, newSession, service } from '../../src/index.js';
import { errorResponse, failureStatus, type FailureStage } from '../../src/invocation/replies.js';
import type { InvocationResponse } from '../../src/protocol/wire.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';

shutdownAfterEach();

const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const errorOf = (code: ErrorCode): OaasError => fromWireError({ code, message: 'm' });

// What the dispatcher and the manual API's remote transport answered when each kept its own list of codes.
const PLATFORM: readonly ErrorCode[] = [
  'OAAS_ERR_LOCK_TIMEOUT',
  'OAAS_ERR_RUNTIME_SHUT_DOWN',
  'OAAS_ERR_STORE_FAILED',
  'OAAS_ERR_COMMIT_FAILED',
  'OAAS_ERR_COMMIT_CONFLICT',
  'OAAS_ERR_CONFIG_INVALID',
  // Added with cluster ownership, after the lists were folded: a fenced commit is the platform's failure.
  'OAAS_ERR_COMMIT_FENCED',
  // A forwarded call that reached a process that does not own the object: the platform's routing, not the caller's.
  'OAAS_ERR_NOT_OWNER',
];
const LINK: readonly ErrorCode[] = ['OAAS_ERR_REMOTE_UNREACHABLE', 'OAAS_ERR_AUTH_REQUIRED', 'OAAS_ERR_SERVER_INTERNAL'];
const CALLER: readonly ErrorCode[] = [
  'OAAS_ERR_ARGUMENT_INVALID',
  'OAAS_ERR_ID_INVALID',
  'OAAS_ERR_CLASS_NOT_FOUND',
  'OAAS_ERR_METHOD_NOT_FOUND',
  'OAAS_ERR_OBJECT_NOT_FOUND',
  'OAAS_ERR_OBJECT_DELETED',
  'OAAS_ERR_PAYLOAD_TOO_LARGE',
  'OAAS_ERR_ROUTE_NOT_FOUND',
  'OAAS_ERR_INVOKE_CANCELLED',
  'OAAS_ERR_OWNED_ELSEWHERE',
];

describe('failureStatus', () => {
  it.each(codes)('%s answers the status of its kind at every stage', (code) => {
    const error = errorOf(code);
    const system = PLATFORM.includes(code) || LINK.includes(code);
    const at = (stage: FailureStage) => failureStatus(error, stage);
    expect(at('request')).toBe('INVALID_REQUEST');
    expect(at('load')).toBe(system ? 'SYSTEM_ERROR' : 'INVALID_REQUEST');
    expect(at('call')).toBe(system ? 'SYSTEM_ERROR' : 'APP_ERROR');
    expect(at('remote')).toBe(system ? 'SYSTEM_ERROR' : CALLER.includes(code) ? 'INVALID_REQUEST' : 'APP_ERROR');
  });

  it('a declaration the decorators refuse is the application’s fault, not the request’s, through a server too', () => {
    expect(failureStatus(errorOf('OAAS_ERR_REGISTRY_CONFLICT'), 'remote')).toBe('APP_ERROR');
  });

  it('an error without a code is the method’s in process and the transport’s through a server', () => {
    const plain = new RangeError('x');
    expect([failureStatus(plain, 'request'), failureStatus(plain, 'load'), failureStatus(plain, 'call'), failureStatus(plain, 'remote')]).toEqual([
      'INVALID_REQUEST',
      'INVALID_REQUEST',
      'APP_ERROR',
      'SYSTEM_ERROR',
    ]);
  });
});

const decoder = new TextDecoder();
const body = (response: InvocationResponse): unknown => JSON.parse(decoder.decode(response.payload));

describe('errorResponse', () => {
  it('reports an error by type, message and code, a method’s own error as it was thrown, and anything else as an Error', () => {
    expect(body(errorResponse('SYSTEM_ERROR', new RemoteError('down')))).toEqual({ error_type: 'RemoteError', error_message: 'down', code: 'OAAS_ERR_REMOTE_UNREACHABLE' });
    expect(body(errorResponse('APP_ERROR', new ApplicationError('RangeError', 'too big')))).toEqual({ error_type: 'RangeError', error_message: 'too big' });
    expect(body(errorResponse('APP_ERROR', new TypeError('bad')))).toEqual({ error_type: 'TypeError', error_message: 'bad' });
    expect(body(errorResponse('APP_ERROR', 'a string'))).toEqual({ error_type: 'Error', error_message: 'a string' });
  });
});

@service('Relay', { package: 'unit_policy' })
class Relay extends OaasObject {
  n = 0;

  /** Stands for a method whose own remote call failed on the way. */
  @method()
  async forward(): Promise<void> {
    this.n += 1;
    throw new RemoteError('POST http://peer/api: connect ECONNREFUSED');
  }

  @method()
  async denied(): Promise<void> {
    throw new UnauthorizedError();
  }

  @method()
  async *ticks(failAt: number): AsyncGenerator<number> {
    for (let i = 1; ; i++) {
      this.n += 1;
      if (i === failAt) throw new RangeError(`tick ${i} failed`);
      yield i;
    }
  }
}

describe('in process', () => {
  it('a failure of the link to another server, let through by a method, is a SYSTEM_ERROR, as through a server', async () => {
    await freshRuntime();
    Relay.create({}, { id: 'r1' });
    const session = newSession();
    const forwarded = await session.objRpc({ clsId: 'unit_policy.Relay', partitionId: 0, objectId: 'r1', fnId: 'forward' });
    expect([forwarded.status, body(forwarded)]).toEqual(['SYSTEM_ERROR', { error_type: 'RemoteError', error_message: 'POST http://peer/api: connect ECONNREFUSED', code: 'OAAS_ERR_REMOTE_UNREACHABLE' }]);
    const denied = await session.objRpc({ clsId: 'unit_policy.Relay', partitionId: 0, objectId: 'r1', fnId: 'denied' });
    expect(denied.status).toBe('SYSTEM_ERROR');
  });

  it('a stream its caller stops reading is rolled back as cancelled; one that fails, with its own error', async () => {
    await freshRuntime();
    const relay = Relay.create({}, { id: 'r2' });
    for await (const tick of relay.ticks(0)) if (tick === 2) break;
    expect(relay.n).toBe(0);
    await expect(async () => {
      for await (const tick of relay.ticks(2)) expect(tick).toBe(1);
    }).rejects.toThrow(RangeError);
    expect(relay.n).toBe(0);
    expect(getStats().rollbacks).toEqual({ InvocationCancelledError: 1, RangeError: 1 });
  });
});
