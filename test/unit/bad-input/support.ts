/**
 * What the bad-input suites share: every public entry point, called with
 * malformed input, fails with a typed OaasError (class and code checked) and
 * changes nothing. Each file covers one API.
 */
import { afterEach, beforeEach, expect, vi } from 'vitest';
import {
  AutoSessionManager,
  OaasError,
  OaasObject,
  configureOaas,
  currentSession,
  getAutoSessionManager,
  method,
  service,
  type ErrorCode,
  type InvocationResponse,
} from '../../../src/index.js';
import { checkedShutdown } from '../../support/runtime.js';

export type ErrorClass = abstract new (...args: never[]) => OaasError;

/** Asserts `error` is an instance of `cls` with `code`, and returns it typed. */
export function check<E extends OaasError>(error: unknown, cls: abstract new (...args: never[]) => E, code: ErrorCode): E {
  expect(error).toBeInstanceOf(OaasError);
  expect(error).toBeInstanceOf(cls);
  expect((error as OaasError).code).toBe(code);
  return error as E;
}

/** The error a synchronous call throws. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** The reason a promise rejects with (a synchronous throw counts too: callers see both the same way). */
export async function rejection(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

export const ARG = 'OAAS_ERR_ARGUMENT_INVALID';
export const DETACHED = 'OAAS_ERR_OBJECT_DETACHED';
export const ID = 'OAAS_ERR_ID_INVALID';
export const REG = 'OAAS_ERR_REGISTRY_CONFLICT';
export const CLS = 'OAAS_ERR_CLASS_NOT_FOUND';
export const SER = 'OAAS_ERR_STATE_UNSERIALIZABLE';

export function runtime(): AutoSessionManager {
  return getAutoSessionManager();
}

/** What a failed call must leave as it was. */
export function snapshot(): { pending: number; pendingSessions: number; live: number; context: number } {
  const r = runtime();
  return { pending: r.pendingObjectCount, pendingSessions: r.pendingSessionCount, live: r.liveObjectCount, context: currentSession().pendingCount };
}

const decoder = new TextDecoder();

export function errorBody(response: InvocationResponse): Record<string, unknown> {
  expect(response.payload).toBeInstanceOf(Uint8Array);
  const body = JSON.parse(decoder.decode(response.payload)) as Record<string, unknown>;
  expect(typeof body.error_type).toBe('string');
  expect(typeof body.error_message).toBe('string');
  return body;
}

export function expectInvalid(response: InvocationResponse, errorType: string, code: ErrorCode): void {
  expect(response.status).toBe('INVALID_REQUEST');
  const body = errorBody(response);
  expect(body.error_type).toBe(errorType);
  expect(body.code).toBe(code);
}

// The services the suites call.

@service('BadCounter', { package: 'unit_bad' })
export class BadCounter extends OaasObject {
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

export class Unregistered extends OaasObject {
  n = 0;
}

export function cyclic(): unknown[] {
  const a: unknown[] = [];
  a.push(a);
  return a;
}

/** A fresh memory runtime for each test of the calling file, shut down (and real timers back) after it. */
export function freshRuntimeEachTest(): void {
  beforeEach(async () => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
  });

  afterEach(async () => {
    await checkedShutdown();
    vi.useRealTimers();
  });
}
