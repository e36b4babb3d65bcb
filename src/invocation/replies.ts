/**
 * The rules every invocation transport shares (the in-process dispatcher and
 * the manual API's remote transport): what a well-formed request is, which
 * status a failure answers, and the reply it gets.
 */
import { describeType } from '../describe.js';
import { ApplicationError, InvalidArgumentError, OaasError } from '../errors.js';
import type { InvocationErrorBody, InvocationRequest, InvocationResponse, ResponseStatus } from '../protocol/wire.js';

/** Checks the shape of an invocation request (not whether its class or method exist). */
export function checkRequest(request: unknown): InvocationRequest {
  if (typeof request !== 'object' || request === null) throw new InvalidArgumentError('request', `expected an object, got ${describeType(request)}`);
  const r = request as Record<string, unknown>;
  if (typeof r.clsId !== 'string' || r.clsId === '') throw new InvalidArgumentError('clsId', 'expected a non-empty string');
  if (typeof r.fnId !== 'string' || r.fnId === '') throw new InvalidArgumentError('fnId', 'expected a non-empty string');
  if (typeof r.partitionId !== 'number' || !Number.isSafeInteger(r.partitionId) || r.partitionId < 0) {
    throw new InvalidArgumentError('partitionId', 'expected a non-negative integer');
  }
  if (r.objectId !== undefined && typeof r.objectId !== 'string') throw new InvalidArgumentError('objectId', 'expected a string');
  if (r.payload !== undefined && typeof r.payload !== 'string' && !(r.payload instanceof Uint8Array)) {
    throw new InvalidArgumentError('payload', 'expected a Uint8Array or a string');
  }
  return r as unknown as InvocationRequest;
}

/**
 * Where an invocation failed: checking the request (its shape, class,
 * method and arguments), loading its object, running its method in this
 * process, or anywhere past the request on a remote server.
 */
export type FailureStage = 'request' | 'load' | 'call' | 'remote';

/**
 * The status a failure answers, from the kind of its code (`ERROR_CODES`):
 * the platform's failures and conflicts are `SYSTEM_ERROR` wherever they
 * happen; otherwise a local load failure is the request's fault and a local
 * call failure the method's. A remote server has already sorted its errors
 * by code, so there the kind decides alone, and an error without a code is a
 * failure of the transport.
 */
export function failureStatus(error: unknown, stage: FailureStage): ResponseStatus {
  if (stage === 'request') return 'INVALID_REQUEST';
  const kind = error instanceof OaasError ? error.kind : undefined;
  if (kind === 'system' || kind === 'conflict') return 'SYSTEM_ERROR';
  if (stage === 'load') return 'INVALID_REQUEST';
  if (stage === 'call') return 'APP_ERROR';
  if (kind === undefined) return 'SYSTEM_ERROR';
  return kind === 'request' ? 'INVALID_REQUEST' : 'APP_ERROR';
}

const encoder = new TextEncoder();

/**
 * The reply for a failed invocation: `{ error_type, error_message, code? }`,
 * never a stack. An `ApplicationError` (a remote method threw) is reported as
 * the error the method threw, without a code, as in process.
 */
export function errorResponse(status: ResponseStatus, error: unknown): InvocationResponse {
  const body: InvocationErrorBody =
    error instanceof ApplicationError
      ? { error_type: error.errorType, error_message: error.message }
      : error instanceof Error
        ? { error_type: error.name, error_message: error.message, ...(error instanceof OaasError ? { code: error.code } : {}) }
        : { error_type: 'Error', error_message: String(error) };
  return { status, payload: encoder.encode(JSON.stringify(body)) };
}

