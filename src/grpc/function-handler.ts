/**
 * What `InvokeFn` and `InvokeObj` do, without gRPC: a decoded request runs
 * through the same {@link Gateway} the HTTP server calls (one session per
 * call, committed before the reply, conflict retries, idempotency records),
 * and every outcome, failures included, is an `InvocationResponse`. The
 * platform reads the status from the response, so nothing here ends in a
 * gRPC error.
 */
import type { Logger } from 'pino';
import { InternalError, InvalidArgumentError, OaasError } from '../errors.js';
import type { Gateway, InvokeCall, InvokeOutcome } from '../invocation/gateway.js';
import { bindStream, createInvocationContext, runInInvocation } from '../invocation/invocation-context.js';
import { runWithSlot } from '../session/async-context.js';
import { toWireError } from '../wire-errors.js';
import { MalformedRequest, RESPONSE_STATUS, type FnRequest, type FnResponse, type ObjRequest } from './service-definition.js';

/** What the handler needs of a gateway. */
export type GatewayLike = Pick<Gateway, 'invoke'>;

const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const JSON_TYPE = 'application/json';

/** The two methods of `oprc.OprcFunction` over a gateway. */
export class FunctionHandler {
  constructor(
    private readonly gateway: GatewayLike,
    /** Where failures that are not `OaasError`s (bugs) are logged. */
    private readonly logger: () => Logger | undefined,
  ) {}

  /** `InvokeFn`: a stateless method. */
  invokeFn(request: FnRequest | MalformedRequest): Promise<FnResponse> {
    return this.answer(request, (r) => this.gateway.invoke(callOf(r, undefined)));
  }


  /**
   * `InvokeObj`: a method on the object `object_id` (lowercased, as the
   * platform's ids are); an object that does not exist yet is created for the
   * call, since the platform invokes the function for any object id.
   */
  invokeObj(request: ObjRequest | MalformedRequest): Promise<FnResponse> {
    return this.answer(request, (r) => {
      if (r.object_id === undefined || r.object_id === '') throw new InvalidArgumentError('object_id', 'InvokeObj needs the id of the object to invoke');
      return this.gateway.invoke(callOf(r, r.object_id.toLowerCase()));
    });
  }

  private async answer<R extends FnRequest>(request: R | MalformedRequest, run: (request: R) => Promise<InvokeOutcome>): Promise<FnResponse> {
    try {
      if (request instanceof MalformedRequest) throw new InvalidArgumentError('request', 'the message is not a valid protobuf encoding', { cause: request.cause });
      // The method reads the request's options through currentInvocation(), and may label its reply.
      const invocation = createInvocationContext(request.options);
      // Each call gets its own async context, as each HTTP request does: no session leaks from one call into another.
      const value = await runWithSlot({ sessions: new Map() }, () =>
        runInInvocation(invocation, async () => {
          const outcome = await run(request);
          return outcome.kind === 'value' ? outcome.value : await collect(bindStream(invocation, outcome.stream));
        }),
      );
      const reply = valueReply(value);
      return { ...reply, headers: { ...reply.headers, ...invocation.replyHeaders } };
    } catch (error) {
      return this.failureReply(error);
    }
  }

  private failureReply(error: unknown): FnResponse {
    if (!(error instanceof OaasError)) {
      this.logger()?.error({ err: error }, 'invocation failed unexpectedly');
      return errorReply(RESPONSE_STATUS.SYSTEM_ERROR, new InternalError());
    }
    const status = error.kind === 'request' ? RESPONSE_STATUS.INVALID_REQUEST : error.kind === 'application' ? RESPONSE_STATUS.APP_ERROR : RESPONSE_STATUS.SYSTEM_ERROR;
    return errorReply(status, error);
  }
}

/** The gateway call for a request; `options` carry the caller's content type, idempotency key and trace context. */
function callOf(request: FnRequest, objectId: string | undefined): InvokeCall {
  const option = (name: string): string | undefined => optionOf(request.options, name);
  // A caller that says it sends JSON must send JSON; otherwise a payload that is not JSON reaches the method as bytes.
  const strictJson = isJsonType(option('content-type'));
  return {
    clsId: request.cls_id,
    partitionId: request.partition_id,
    objectId,
    method: request.fn_id,
    ...(strictJson ? { body: utf8(request.payload) } : { payload: plainBytes(request.payload) }),
    createMissing: objectId !== undefined,
    idempotencyKey: option('idempotency-key'),
    traceparent: option('traceparent'),
    tracestate: option('tracestate'),
  };
}

/** An option by name, whatever the case of its key (the platform copies HTTP header names). */
function optionOf(options: Readonly<Record<string, string>>, name: string): string | undefined {
  for (const [key, value] of Object.entries(options)) if (key.toLowerCase() === name) return value;
  return undefined;
}

function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === JSON_TYPE || type.endsWith('+json');
}

function utf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new InvalidArgumentError('payload', 'the content type says JSON, but the payload is not UTF-8 text', { cause: error });
  }
}

/** The payload as a plain `Uint8Array` (a view, not a copy), not the `Buffer` the decoder made. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Every value of a streaming method, for a reply that has one payload; the stream commits when it ends. */
async function collect(stream: AsyncGenerator<unknown>): Promise<unknown[]> {
  const values: unknown[] = [];
  for await (const value of stream) values.push(value);
  return values;
}

/**
 * The reply for a method's return value: bytes as they are, a string as its
 * UTF-8 text, nothing for `undefined`, anything else as JSON; the content
 * type in the `content-type` header, which the platform's gateway answers with.
 */
function valueReply(value: unknown): FnResponse {
  if (value === undefined) return { status: RESPONSE_STATUS.OKAY, headers: {} };
  if (value instanceof Uint8Array) return { status: RESPONSE_STATUS.OKAY, payload: value, headers: { 'content-type': 'application/octet-stream' } };
  if (typeof value === 'string') return { status: RESPONSE_STATUS.OKAY, payload: encoder.encode(value), headers: { 'content-type': 'text/plain; charset=utf-8' } };
  return { status: RESPONSE_STATUS.OKAY, payload: encoder.encode(JSON.stringify(value)), headers: { 'content-type': JSON_TYPE } };
}

/** A failure's reply: the error body the HTTP server answers with, `{ error: { code, message, type? } }`. */
function errorReply(status: FnResponse['status'], error: OaasError): FnResponse {
  return { status, payload: encoder.encode(JSON.stringify({ error: toWireError(error) })), headers: { 'content-type': JSON_TYPE } };
}
