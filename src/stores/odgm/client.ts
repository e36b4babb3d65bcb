/**
 * The ODGM store's gRPC client of `oprc.DataService`. `@grpc/grpc-js` and
 * `@grpc/proto-loader` are optional peer dependencies, loaded when the store
 * first connects; proto-loader builds the service from the SDK's own schema
 * (`src/protocol/oprc/schema.ts`), so there is no generated code.
 */
import type * as Grpc from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { MethodDefinition, Options, PackageDefinition } from '@grpc/proto-loader';
import { StoreError } from '../../errors.js';
import { oprcRoot } from '../../protocol/oprc/messages.js';
import { loadDriver } from '../optional-driver.js';
import type { ListObjectsRequest, ObjectMetaEnvelope, UnaryCalls } from './wire.js';

/**
 * How proto-loader maps messages to objects: field names as written,
 * 64-bit integers as strings (no silent rounding), enums as numbers, and
 * no defaults, so that an unset `optional` field stays `undefined`.
 */
export const WIRE_OPTIONS: Options = { keepCase: true, longs: String, enums: Number, defaults: false, oneofs: false };

/** The full name of the service, as a package definition keys it. */
export const DATA_SERVICE = 'oprc.DataService';

/**
 * Channel options: no message size limit either way (the store sends a
 * whole object's changes and reads a whole object in one message; ODGM's
 * own server caps what it accepts, at tonic's 4 MiB by default), and
 * keepalive pings so that a connection that died silently is noticed.
 */
const CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
} as const;

/** A service or call the SDK's schema lacks: a bug of this release, which no retry cures. */
function schemaGap(name: string): StoreError {
  return new StoreError(`odgm: ${name} is missing from the oprc schema (src/protocol/oprc/schema.ts)`, { transient: false });
}

/** The `oprc.DataService` definition, built by proto-loader from the SDK's schema. */
export function dataServiceDefinition(protoLoader: { fromJSON(json: object, options: Options): PackageDefinition }): Record<string, MethodDefinition<object, object>> {
  const definition = protoLoader.fromJSON(oprcRoot().toJSON(), WIRE_OPTIONS)[DATA_SERVICE];
  if (definition === undefined || 'format' in definition) throw schemaGap(DATA_SERVICE);
  return definition;
}

let loaded: Promise<{ grpc: typeof Grpc; methods: Record<string, MethodDefinition<object, object>> }> | undefined;

/** Loads the two optional packages once, naming the one to install when it is missing (and trying again at the next call). */
function loadGrpc(): Promise<{ grpc: typeof Grpc; methods: Record<string, MethodDefinition<object, object>> }> {
  loaded ??= (async () => {
    const grpc = await loadDriver('@grpc/grpc-js', 'store', 'the odgm store', () => import('@grpc/grpc-js'));
    const protoLoader = await loadDriver('@grpc/proto-loader', 'store', 'the odgm store', () => import('@grpc/proto-loader'));
    return { grpc, methods: dataServiceDefinition(protoLoader) };
  })().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

/**
 * One channel to a DataService. Calls fail fast while the channel is down
 * (grpc-js reconnects in the background) and each has a deadline, so an
 * outage or a hung server surfaces as an error the store can translate.
 */
export class DataServiceClient {
  private constructor(
    private readonly client: Client,
    private readonly methods: Record<string, MethodDefinition<object, object>>,
  ) {}

  /** Creates the channel; it connects at the first call or {@link waitForReady}. */
  static async create(address: string): Promise<DataServiceClient> {
    const { grpc, methods } = await loadGrpc();
    return new DataServiceClient(new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS), methods);
  }

  /** Resolves once the channel is connected, or rejects when `timeoutMs` passes first. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }

  /** One unary call with a deadline; rejects with the grpc-js `ServiceError`. */
  unary<M extends keyof UnaryCalls>(method: M, request: UnaryCalls[M][0], timeoutMs: number): Promise<UnaryCalls[M][1]> {
    const definition = this.method(method);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        { deadline: Date.now() + timeoutMs },
        (error: ServiceError | null, response?: object) => {
          if (error !== null) reject(error);
          else resolve(response ?? {});
        },
      );
    });
  }

  /** `ListObjects`: the whole stream of one page, collected; the deadline covers all of it. */
  listObjects(request: ListObjectsRequest, timeoutMs: number): Promise<ObjectMetaEnvelope[]> {
    const definition = this.method('ListObjects');
    return new Promise((resolve, reject) => {
      const stream: ClientReadableStream<object> = this.client.makeServerStreamRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        { deadline: Date.now() + timeoutMs },
      );
      const envelopes: ObjectMetaEnvelope[] = [];
      stream.on('data', (envelope: ObjectMetaEnvelope) => envelopes.push(envelope));
      stream.on('error', reject);
      stream.on('end', () => {
        resolve(envelopes);
      });
    });
  }

  /** Closes the channel; calls in flight fail with `CANCELLED`. */
  close(): void {
    this.client.close();
  }

  private method(name: string): MethodDefinition<object, object> {
    const definition = this.methods[name];
    if (definition === undefined) throw schemaGap(`${DATA_SERVICE}.${name}`);
    return definition;
  }
}
