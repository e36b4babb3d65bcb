import { ClassNotFoundError, InvalidArgumentError, MethodNotFoundError } from '../errors.js';
import { callMethod, type OaasObject } from '../object/oaas-object.js';
import type { ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { checkArguments } from '../registry/param-schema.js';
import { findClassMetaById } from '../registry/registry.js';
import type { InvocationRequest, InvocationResponse } from '../protocol/wire.js';
import { checkRequest, errorResponse, failureStatus } from './replies.js';

/** How the dispatcher reaches objects. */
export interface DispatchTarget {
  load(ctor: abstract new () => OaasObject, id: unknown, options: { partitionId: number }): Promise<OaasObject>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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
  if (meta === undefined) throw new ClassNotFoundError(request.clsId);
  const method = meta.methodsByName.get(request.fnId);
  if (method === undefined) throw new MethodNotFoundError(request.clsId, request.fnId);
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
    return errorResponse(failureStatus(error, 'request'), error);
  }
  let self: OaasObject;
  try {
    self =
      checked.objectId === undefined
        ? new (meta.ctor as new () => OaasObject)()
        : await target.load(meta.ctor as abstract new () => OaasObject, checked.objectId, { partitionId: checked.partitionId });
  } catch (error) {
    return errorResponse(failureStatus(error, 'load'), error);
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
    return errorResponse(failureStatus(error, 'call'), error);
  }
}
