/**
 * The manual API's remote transport: runs an `InvocationRequest` on an OaaS
 * server and answers with the `InvocationResponse` the in-process dispatcher
 * would give (`OKAY`, `INVALID_REQUEST`, `APP_ERROR`, `SYSTEM_ERROR`, and the
 * same payload shapes). Never throws.
 */
import { ApplicationError, InvalidArgumentError, OaasError } from '../errors.js';
import type { InvocationErrorBody, InvocationRequest, InvocationResponse, ResponseStatus } from '../protocol/wire.js';
import { findClassMetaById } from '../registry/registry.js';
import { RemoteClient } from '../client/client.js';
import { HttpTransport } from '../client/transport.js';
import { SYSTEM_CODES as DISPATCH_SYSTEM_CODES } from '../invocation/dispatcher.js';

/** The server and token from `OaasConfig.url` / `token`. */
export interface RemoteEndpoint {
  readonly url: string;
  readonly token?: string | undefined;
}

/** The platform failed (the dispatcher's set), plus the transport's own failures. */
const SYSTEM_CODES: ReadonlySet<string> = new Set([...DISPATCH_SYSTEM_CODES, 'OAAS_ERR_REMOTE_UNREACHABLE', 'OAAS_ERR_AUTH_REQUIRED', 'OAAS_ERR_SERVER_INTERNAL']);

/** The request itself was at fault: what the dispatcher reports before running the method. */
const REQUEST_CODES: ReadonlySet<string> = new Set([
  'OAAS_ERR_ARGUMENT_INVALID',
  'OAAS_ERR_ID_INVALID',
  'OAAS_ERR_REGISTRY_CONFLICT',
  'OAAS_ERR_CLASS_NOT_FOUND',
  'OAAS_ERR_METHOD_NOT_FOUND',
  'OAAS_ERR_OBJECT_NOT_FOUND',
  'OAAS_ERR_OBJECT_DELETED',
  'OAAS_ERR_PAYLOAD_TOO_LARGE',
  'OAAS_ERR_ROUTE_NOT_FOUND',
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const clients = new Map<string, RemoteClient>();

/**
 * Invokes `request` on the server at `remote.url`.
 *
 * @example
 * const response = await remoteInvoke({ url: 'http://127.0.0.1:8080' }, { clsId: 'default.Counter', partitionId: 0, objectId: 'c1', fnId: 'increment', payload: '2' });
 */
export async function remoteInvoke(remote: RemoteEndpoint, request: InvocationRequest): Promise<InvocationResponse> {
  let client: RemoteClient;
  let checked: InvocationRequest;
  let body: string | undefined;
  try {
    client = clientFor(remote);
    checked = checkRequest(request);
    body = payloadText(checked.payload);
  } catch (error) {
    return errorResponse('INVALID_REQUEST', error);
  }
  const target = { clsId: checked.clsId, partitionId: checked.partitionId, objectId: checked.objectId };
  try {
    const streaming = findClassMetaById(checked.clsId)?.methodsByName.get(checked.fnId)?.streaming === true;
    let result: unknown;
    if (streaming && checked.objectId !== undefined) {
      // The dispatcher's callers get one payload: a stream's values are collected into a JSON array.
      const values: unknown[] = [];
      for await (const value of client.streamAt(target, checked.fnId, body)) values.push(value);
      result = values;
    } else {
      result = await client.invokeAt(target, checked.fnId, body, optionOf(checked, /^idempotency[-_]?key$/i));
    }
    // The server sends a method's `undefined` as null: like the dispatcher, answer it without a payload.
    return result === undefined || result === null ? { status: 'OKAY' } : { status: 'OKAY', payload: encoder.encode(JSON.stringify(result)) };
  } catch (error) {
    return errorResponse(statusOf(error), error);
  }
}

function statusOf(error: unknown): ResponseStatus {
  if (!(error instanceof OaasError)) return 'SYSTEM_ERROR';
  if (SYSTEM_CODES.has(error.code)) return 'SYSTEM_ERROR';
  if (REQUEST_CODES.has(error.code)) return 'INVALID_REQUEST';
  return 'APP_ERROR';
}

function errorResponse(status: ResponseStatus, error: unknown): InvocationResponse {
  const e = error instanceof Error ? error : new Error(String(error));
  // An application error is reported as the error the method threw (its type, no code), as in process.
  const body: InvocationErrorBody =
    e instanceof ApplicationError
      ? { error_type: e.errorType, error_message: e.message }
      : { error_type: e.name, error_message: e.message, ...(e instanceof OaasError ? { code: e.code } : {}) };
  return { status, payload: encoder.encode(JSON.stringify(body)) };
}

function clientFor(remote: RemoteEndpoint): RemoteClient {
  const key = `${remote.url}\u0000${remote.token ?? ''}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = new RemoteClient(new HttpTransport({ url: remote.url, token: remote.token }));
    clients.set(key, client);
  }
  return client;
}

function checkRequest(request: unknown): InvocationRequest {
  if (typeof request !== 'object' || request === null) throw new InvalidArgumentError('request', 'expected an object');
  const r = request as Record<string, unknown>;
  if (typeof r.clsId !== 'string' || r.clsId === '') throw new InvalidArgumentError('clsId', 'expected a non-empty string');
  if (typeof r.fnId !== 'string' || r.fnId === '') throw new InvalidArgumentError('fnId', 'expected a non-empty string');
  if (typeof r.partitionId !== 'number' || !Number.isSafeInteger(r.partitionId) || r.partitionId < 0) throw new InvalidArgumentError('partitionId', 'expected a non-negative integer');
  if (r.objectId !== undefined && typeof r.objectId !== 'string') throw new InvalidArgumentError('objectId', 'expected a string');
  if (r.payload !== undefined && typeof r.payload !== 'string' && !(r.payload instanceof Uint8Array)) throw new InvalidArgumentError('payload', 'expected a Uint8Array or a string');
  return r as unknown as InvocationRequest;
}

/** The payload is already the wire body (JSON of the argument, or of an array of them). */
function payloadText(payload: Uint8Array | string | undefined): string | undefined {
  const text = payload === undefined ? '' : typeof payload === 'string' ? payload : decoder.decode(payload);
  return text.trim() === '' ? undefined : text;
}

function optionOf(request: InvocationRequest, name: RegExp): string | undefined {
  for (const [key, value] of Object.entries(request.options ?? {})) if (name.test(key)) return value;
  return undefined;
}
