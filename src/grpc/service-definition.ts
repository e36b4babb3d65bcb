/**
 * The `oprc.OprcFunction` service as `@grpc/grpc-js` serves it, built by
 * `@grpc/proto-loader` from the protobufjs root of `protocol/oprc` (one
 * schema for every Oparaca transport, no generated code). A request that
 * does not decode becomes a {@link MalformedRequest}, so the handler can
 * answer `INVALID_REQUEST` like any other bad request instead of gRPC
 * failing the call at the transport.
 */
import type * as ProtoLoader from '@grpc/proto-loader';
import { InternalError } from '../errors.js';
import { oprcRoot } from '../protocol/oprc/messages.js';

/** `ResponseStatus` of `oprc-invoke.proto`. */
export const RESPONSE_STATUS = { OKAY: 0, INVALID_REQUEST: 1, APP_ERROR: 2, SYSTEM_ERROR: 3 } as const;

/** `InvocationRequest` as decoded (absent fields carry their proto3 defaults). */
export interface FnRequest {
  readonly partition_id: number;
  readonly cls_id: string;
  readonly fn_id: string;
  readonly options: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
}

/** `ObjectInvocationRequest` as decoded; `object_id` is absent when the sender left it out. */
export interface ObjRequest extends FnRequest {
  readonly object_id?: string | undefined;
}

/** `InvocationResponse` as encoded. */
export interface FnResponse {
  readonly payload?: Uint8Array | undefined;
  readonly status: (typeof RESPONSE_STATUS)[keyof typeof RESPONSE_STATUS];
  readonly headers: Readonly<Record<string, string>>;
  readonly invocation_id?: string | undefined;
}

/** What a request that could not be decoded is handed to the handler as. */
export class MalformedRequest {
  constructor(readonly cause: unknown) {}
}

/** How proto-loader turns messages into objects: field names as written, enums as numbers, every field present. */
const LOADER_OPTIONS: ProtoLoader.Options = { keepCase: true, longs: String, enums: Number, defaults: true, oneofs: false, objects: true, arrays: true };

/** The methods of `oprc.OprcFunction`, keyed as grpc-js looks implementations up. */
export type OprcFunctionDefinition = ProtoLoader.ServiceDefinition & {
  readonly InvokeFn: ProtoLoader.MethodDefinition<object, object>;
  readonly InvokeObj: ProtoLoader.MethodDefinition<object, object>;
};

/** The service definition, from the loaded proto-loader module. */
export function oprcFunctionService(protoLoader: Pick<typeof ProtoLoader, 'fromJSON'>): OprcFunctionDefinition {
  const definitions = protoLoader.fromJSON(oprcRoot().toJSON(), LOADER_OPTIONS);
  const service = definitions['oprc.OprcFunction'] as ProtoLoader.ServiceDefinition | undefined;
  // Cannot happen with the schema of protocol/oprc; a schema edit that broke it fails here, not at the first call.
  if (service?.InvokeFn === undefined || service.InvokeObj === undefined) throw new InternalError('the oprc schema has no OprcFunction service with InvokeFn and InvokeObj');
  const tolerant = (method: ProtoLoader.MethodDefinition<object, object>): ProtoLoader.MethodDefinition<object, object> => ({
    ...method,
    requestDeserialize: (bytes: Buffer) => {
      try {
        return method.requestDeserialize(bytes);
      } catch (error) {
        return new MalformedRequest(error);
      }
    },
  });
  return { ...service, InvokeFn: tolerant(service.InvokeFn), InvokeObj: tolerant(service.InvokeObj) };
}
