// A gRPC client of `oprc.OprcFunction` as another Oparaca component would build one: grpc-js, with the service from the same schema.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { oprcRoot } from '../../src/protocol/oprc/messages.js';

/** `InvocationResponse` as the client decodes it (every field present). */
export interface Reply {
  readonly payload: Buffer;
  readonly status: 'OKAY' | 'INVALID_REQUEST' | 'APP_ERROR' | 'SYSTEM_ERROR';
  readonly headers: Record<string, string>;
  readonly invocation_id: string;
}

export interface OprcFunctionClient {
  invokeFn(request: object): Promise<Reply>;
  invokeObj(request: object): Promise<Reply>;
  close(): void;
}

type Unary = (request: object, callback: (error: grpc.ServiceError | null, reply: Reply) => void) => void;

/** A client of `address`; enums decode as names, so a test reads `status: 'APP_ERROR'`. */
export function oprcClient(address: string): OprcFunctionClient {
  const definition = protoLoader.fromJSON(oprcRoot().toJSON(), { keepCase: true, enums: String, defaults: true, objects: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { oprc: { OprcFunction: grpc.ServiceClientConstructor } };
  const client = new loaded.oprc.OprcFunction(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  const call = (name: 'InvokeFn' | 'InvokeObj') => (request: object) =>
    new Promise<Reply>((resolve, reject) => {
      (client[name] as Unary).call(client, request, (error, reply) => (error === null ? resolve(reply) : reject(error)));
    });
  return { invokeFn: call('InvokeFn'), invokeObj: call('InvokeObj'), close: () => client.close() };
}

/** The payload as JSON. */
export function json(reply: Reply): unknown {
  return JSON.parse(reply.payload.toString('utf8')) as unknown;
}

/** Sends `bytes` as they are (no encoding) to `method` of `oprc.OprcFunction`, and decodes the reply. */
export function rawCall(address: string, method: 'InvokeFn' | 'InvokeObj', bytes: Buffer): Promise<Reply> {
  const definition = protoLoader.fromJSON(oprcRoot().toJSON(), { keepCase: true, enums: String, defaults: true, objects: true });
  const service = definition['oprc.OprcFunction'] as protoLoader.ServiceDefinition;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<Reply>((resolve, reject) => {
    client.makeUnaryRequest(
      `/oprc.OprcFunction/${method}`,
      (raw: Buffer) => raw,
      (reply: Buffer) => service[method]!.responseDeserialize(reply) as Reply,
      bytes,
      (error, reply) => {
        client.close();
        if (error === null && reply !== undefined) resolve(reply);
        else reject(error ?? new Error('no reply'));
      },
    );
  });
}
