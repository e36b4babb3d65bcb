/**
 * The manual API's remote transport: runs an `InvocationRequest` on an OaaS
 * server and answers with the `InvocationResponse` the in-process dispatcher
 * would give (`OKAY`, `INVALID_REQUEST`, `APP_ERROR`, `SYSTEM_ERROR`, and the
 * same payload shapes). Never throws.
 */
import { checkRequest, errorResponse, failureStatus } from '../invocation/replies.js';
import type { InvocationRequest, InvocationResponse } from '../protocol/wire.js';
import { findClassMetaById } from '../registry/registry.js';
import { RemoteClient } from '../client/client.js';
import { HttpTransport } from '../client/transport.js';

/** The server and token from `OaasConfig.url` / `token`. */
export interface RemoteEndpoint {
  readonly url: string;
  readonly token?: string | undefined;
}

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
    return errorResponse(failureStatus(error, 'request'), error);
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
    return errorResponse(failureStatus(error, 'remote'), error);
  }
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

/** The payload is already the wire body (JSON of the argument, or of an array of them). */
function payloadText(payload: Uint8Array | string | undefined): string | undefined {
  const text = payload === undefined ? '' : typeof payload === 'string' ? payload : decoder.decode(payload);
  return text.trim() === '' ? undefined : text;
}

function optionOf(request: InvocationRequest, name: RegExp): string | undefined {
  for (const [key, value] of Object.entries(request.options ?? {})) if (name.test(key)) return value;
  return undefined;
}
