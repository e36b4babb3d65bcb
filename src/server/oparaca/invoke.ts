/**
 * Invocations in the Oparaca dialect. The body is the raw payload: JSON
 * becomes the arguments as in the SDK's own dialect, anything else reaches
 * the method as one `Uint8Array`. The reply is always 200 with the
 * invocation's payload, whatever its status (as the platform's gateway
 * answers), with the status in an `oaas-status` header.
 */
import type { Context } from 'hono';
import { ClassNotFoundError, InvalidIdError, MethodNotFoundError, OaasError } from '../../errors.js';
import { bindStream, createInvocationContext, replyHeader, runInInvocation, type InvocationContext } from '../../invocation/invocation-context.js';
import { errorResponse, failureStatus } from '../../invocation/replies.js';
import { rawOf } from '../../object/raw.js';
import type { ResponseStatus } from '../../protocol/wire.js';
import type { AppEnv, GatewayLike } from '../dialect.js';
import { checkJsonSafety, invocationOptions } from '../request.js';

/** The header carrying the invocation's `ResponseStatus` (the platform's gateway drops it; this one keeps it). */
export const STATUS_HEADER = 'oaas-status';

/** A reply payload and the content type the invocation gave it, if any. */
interface Payload {
  readonly bytes: Uint8Array | undefined;
  readonly contentType: string | undefined;
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Invokes a method the way the platform's gateway does, and answers its payload. */
export async function invokeReply(
  c: Context<AppEnv>,
  gateway: GatewayLike,
  target: { clsId: string; partitionId: number; objectId?: string; method: string },
): Promise<Response> {
  const body = new Uint8Array(await c.req.arrayBuffer());
  const trace = c.get('trace');
  const invocation = createInvocationContext(invocationOptions(c));
  let status: ResponseStatus = 'OKAY';
  let payload: Payload;
  try {
    const value = await runInInvocation(invocation, () => run(gateway, invocation, body, target, trace));
    payload = resultPayload(value);
  } catch (error) {
    // The platform's own refusals before any function runs stay HTTP errors.
    if (error instanceof ClassNotFoundError || error instanceof InvalidIdError || !(error instanceof OaasError)) throw error;
    status = failureStatus(error, 'remote');
    // ODGM answers a function its class does not route to with this text (and SYSTEM_ERROR), before any runtime sees the call.
    payload =
      error instanceof MethodNotFoundError
        ? { bytes: encoder.encode(`No func ${error.method} on class ${error.clsId} exists`), contentType: undefined }
        : { bytes: errorResponse(status, error).payload, contentType: 'application/json' };
    if (error instanceof MethodNotFoundError) status = 'SYSTEM_ERROR';
  }
  const contentType = replyHeader(invocation, 'content-type') ?? payload.contentType ?? fromAccept(c.req.header('accept'));
  const headers = { 'content-type': contentType, [STATUS_HEADER]: status };
  return payload.bytes === undefined ? c.body(null, 200, headers) : c.body(payload.bytes as Uint8Array<ArrayBuffer>, 200, headers);
}

async function run(
  gateway: GatewayLike,
  invocation: InvocationContext,
  body: Uint8Array,
  target: { clsId: string; partitionId: number; objectId?: string; method: string },
  trace: { traceparent: string; tracestate: string | undefined } | undefined,
): Promise<unknown> {
  const json = jsonText(body);
  if (json !== undefined) checkJsonSafety(json);
  const outcome = await gateway.invoke({
    ...target,
    // JSON or raw, decided by the gateway (as for the gRPC runtime): a payload that is not JSON is the method's one argument.
    payload: body,
    createMissing: true,
    traceparent: trace?.traceparent,
    tracestate: trace?.tracestate,
  });
  if (outcome.kind === 'value') return outcome.value;
  // No streams on this gateway: a streaming method answers all its values at once, as an array.
  const values: unknown[] = [];
  for await (const value of bindStream(invocation, outcome.stream)) values.push(value);
  return values;
}

/** The body as JSON text when it is (empty counts: no arguments), else `undefined`: a raw payload. */
function jsonText(body: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return undefined;
  }
  if (text.trim() === '') return '';
  try {
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/** Bytes and strings go out as they are; `undefined` as no payload; anything else as its JSON. */
function resultPayload(value: unknown): Payload {
  if (value === undefined) return { bytes: undefined, contentType: undefined };
  if (value instanceof Uint8Array) {
    // A state field's bytes come wrapped in its tracking proxy, which a socket cannot write: send the bytes behind it.
    const raw = rawOf(value);
    return { bytes: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), contentType: undefined };
  }
  if (typeof value === 'string') return { bytes: encoder.encode(value), contentType: undefined };
  return { bytes: encoder.encode(JSON.stringify(value)), contentType: 'application/json' };
}

/** The platform's gateway labels a reply without a content type of its own from `Accept`: JSON if asked for, else bytes. */
function fromAccept(accept: string | undefined): string {
  return accept?.includes('application/json') === true ? 'application/json' : 'application/octet-stream';
}
