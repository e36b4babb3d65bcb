import { InvalidArgumentError, OaasError, RegistrationError } from '../errors.js';
import { describeType } from '../describe.js';
import { callMethod, type OaasObject } from '../object/oaas-object.js';
import type { ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { checkArguments } from '../registry/param-schema.js';
import { findClassMetaById } from '../registry/registry.js';
import type { InvocationErrorBody, InvocationRequest, InvocationResponse, ResponseStatus } from '../protocol/wire.js';

/** How the dispatcher reaches objects. */
export interface DispatchTarget {
  load(ctor: abstract new () => OaasObject, id: unknown, options: { partitionId: number }): Promise<OaasObject>;
}

/** Errors that say the platform (not the request or the application) failed. */
export const SYSTEM_CODES: ReadonlySet<string> = new Set([
  'OAAS_ERR_LOCK_TIMEOUT',
  'OAAS_ERR_RUNTIME_SHUT_DOWN',
  'OAAS_ERR_STORE_FAILED',
  'OAAS_ERR_COMMIT_FAILED',
  'OAAS_ERR_COMMIT_CONFLICT',
  'OAAS_ERR_CONFIG_INVALID',
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function errorResponse(status: ResponseStatus, error: unknown): InvocationResponse {
  const e = error instanceof Error ? error : new Error(String(error));
  const body: InvocationErrorBody = {
    error_type: e.name,
    error_message: e.message,
    ...(e instanceof OaasError ? { code: e.code } : {}),
  };
  return { status, payload: encoder.encode(JSON.stringify(body)) };
}

function checkRequest(request: unknown): InvocationRequest {
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

/** Turns a payload into the method's arguments: one argument, or an array of them when it takes several. */
export function decodeArguments(payload: Uint8Array | string | undefined, method: Pick<MethodMeta, 'name' | 'arity'>): unknown[] {
  const text = payload === undefined ? '' : typeof payload === 'string' ? payload : decoder.decode(payload);
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError('payload', `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (method.arity > 1) {
    if (!Array.isArray(value)) throw new InvalidArgumentError('payload', `${method.name} takes ${method.arity} arguments: send a JSON array`);
    return value;
  }
  return [value];
}

function resolve(request: InvocationRequest): { meta: ClassMeta; method: MethodMeta } {
  const meta = findClassMetaById(request.clsId);
  if (meta === undefined) throw new RegistrationError(`unknown class ${request.clsId}`);
  const method = meta.methodsByName.get(request.fnId);
  if (method === undefined) throw new RegistrationError(`class ${request.clsId} has no method ${request.fnId}`);
  if (request.objectId === undefined && !method.stateless) {
    throw new InvalidArgumentError('objectId', `${request.fnId} is not stateless: the request needs an objectId`);
  }
  return { meta, method };
}

/**
 * Runs an invocation request in this process. Never throws: malformed
 * requests, unknown classes or methods give `INVALID_REQUEST`; an error the
 * method throws gives `APP_ERROR`; a platform failure gives `SYSTEM_ERROR`.
 */
export async function dispatchLocal(target: DispatchTarget, request: unknown): Promise<InvocationResponse> {
  let meta: ClassMeta;
  let method: MethodMeta;
  let args: unknown[];
  let checked: InvocationRequest;
  try {
    checked = checkRequest(request);
    ({ meta, method } = resolve(checked));
    args = await checkArguments(method, decodeArguments(checked.payload, method));
  } catch (error) {
    return errorResponse('INVALID_REQUEST', error);
  }
  let self: OaasObject;
  try {
    self =
      checked.objectId === undefined
        ? new (meta.ctor as new () => OaasObject)()
        : await target.load(meta.ctor as abstract new () => OaasObject, checked.objectId, { partitionId: checked.partitionId });
  } catch (error) {
    const status = error instanceof OaasError && SYSTEM_CODES.has(error.code) ? 'SYSTEM_ERROR' : 'INVALID_REQUEST';
    return errorResponse(status, error);
  }
  try {
    // Past the local check: the arguments were checked above (a transforming schema runs once).
    let result = await callMethod(self, method, args);
    // A streaming method's values, all of them, for transports without streams.
    if (typeof result === 'object' && result !== null && Symbol.asyncIterator in result) {
      const values: unknown[] = [];
      for await (const value of result as AsyncIterable<unknown>) values.push(value);
      result = values;
    }
    return result === undefined ? { status: 'OKAY' } : { status: 'OKAY', payload: encoder.encode(JSON.stringify(result)) };
  } catch (error) {
    const status = error instanceof OaasError && SYSTEM_CODES.has(error.code) ? 'SYSTEM_ERROR' : 'APP_ERROR';
    return errorResponse(status, error);
  }
}
