/**
 * The Oparaca function runtime: `oprc.OprcFunction` served over gRPC
 * (`@grpc/grpc-js`, the service built by `@grpc/proto-loader` from the SDK's
 * own schema), so ODGM can invoke the registered classes' methods. Both
 * packages are optional peer dependencies, loaded only when a server starts.
 */
import type * as GrpcJs from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { checkKnownOptions } from '../config.js';
import { ConfigurationError } from '../errors.js';
import { Gateway } from '../invocation/gateway.js';
import { getAutoSessionManager } from '../runtime/process-runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { loadDriver } from '../stores/optional-driver.js';
import { checkHost, checkPort } from '../server/listen-options.js';
import { FunctionHandler } from './function-handler.js';
import { oprcFunctionService, type FnRequest, type ObjRequest } from './service-definition.js';

/** Options of {@link serveGrpc}. */
export interface GrpcServeOptions {
  /** The TCP port; 0 picks a free one (read it from `RunningGrpcServer.port`). @default HTTP_PORT ?? 8080, the variable the platform sets */
  port?: number | undefined;
  /**
   * The interface to listen on. Only this machine can call by default; in a
   * container on the platform, use `'0.0.0.0'` so ODGM can reach it. @default '127.0.0.1'
   */
  host?: string | undefined;
  /** The runtime the calls run on: a function, looked up per call. @default the process-wide runtime (`configureOaas`) */
  runtime?: (() => Runtime) | undefined;
  /** How many times an invocation re-runs after a `ConflictError` at its commit. @default 3 */
  conflictRetries?: number | undefined;
  /** Where unexpected failures are logged. @default the runtime's logger */
  logger?: Logger | undefined;
}

/** Options of {@link RunningGrpcServer.close}. */
export interface GrpcCloseOptions {
  /** How long calls still running may take before they are cancelled. @default 5000 */
  timeoutMs?: number | undefined;
}

/** A gRPC server that is listening. */
export interface RunningGrpcServer {
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** `host:port`, the target a gRPC client dials. */
  readonly address: string;
  /**
   * Stops accepting calls, lets running ones finish (cancelling them after
   * `timeoutMs`) and resolves once the server is down. It does not shut the
   * SDK runtime down: call `shutdown()` after it.
   */
  close(options?: GrpcCloseOptions): Promise<void>;
}

const OPTIONS: ReadonlySet<string> = new Set(['port', 'host', 'runtime', 'conflictRetries', 'logger']);

/**
 * Serves `oprc.OprcFunction` (`InvokeFn`, `InvokeObj`) for every registered
 * class. Each call runs through the same gateway as the HTTP server and is
 * answered once its changes are committed; failures are answered as
 * responses with `INVALID_REQUEST`, `APP_ERROR` or `SYSTEM_ERROR`, never as
 * gRPC errors. Messages of any size are accepted, as the platform expects.
 *
 * @example
 * const server = await serveGrpc({ host: '0.0.0.0' }); // port: HTTP_PORT, as the platform sets it
 * process.once('SIGTERM', async () => {
 *   await server.close();
 *   await shutdown();
 * });
 */
export async function serveGrpc(options: GrpcServeOptions = {}): Promise<RunningGrpcServer> {
  if (typeof options !== 'object' || (options as unknown) === null) throw new ConfigurationError('options', 'expected an object');
  checkKnownOptions(options, OPTIONS);
  const port = checkPort(options.port);
  const host = checkHost(options.host);
  const { runtime: givenRuntime, conflictRetries, logger } = options;
  if (givenRuntime !== undefined && typeof givenRuntime !== 'function') throw new ConfigurationError('runtime', 'expected a function that returns the runtime');
  if (conflictRetries !== undefined && (typeof conflictRetries !== 'number' || !Number.isSafeInteger(conflictRetries) || conflictRetries < 0)) {
    throw new ConfigurationError('conflictRetries', 'expected a non-negative integer');
  }
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof (logger as { error?: unknown }).error !== 'function')) {
    throw new ConfigurationError('logger', 'expected a pino logger');
  }
  const runtime = givenRuntime ?? getAutoSessionManager;

  const grpc = await loadDriver('@grpc/grpc-js', 'grpc', 'the gRPC function runtime', () => import('@grpc/grpc-js'));
  const protoLoader = await loadDriver('@grpc/proto-loader', 'grpc', 'the gRPC function runtime', () => import('@grpc/proto-loader'));
  const handler = new FunctionHandler(new Gateway(runtime, { conflictRetries }), () => logger ?? runtimeLogger(runtime));
  const server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  server.addService(oprcFunctionService(protoLoader), {
    InvokeFn: (call: GrpcJs.ServerUnaryCall<FnRequest, unknown>, callback: GrpcJs.sendUnaryData<unknown>) => {
      void handler.invokeFn(call.request).then((reply) => callback(null, reply));
    },
    InvokeObj: (call: GrpcJs.ServerUnaryCall<ObjRequest, unknown>, callback: GrpcJs.sendUnaryData<unknown>) => {
      void handler.invokeObj(call.request).then((reply) => callback(null, reply));
    },
  });
  const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, actual) => {
      if (error === null) resolve(actual);
      else reject(new ConfigurationError(listenFault(error), `cannot listen on ${target}: ${error.message}`, { cause: error }));
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    address: `${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: (closeOptions = {}) => (closing ??= closeServer(server, closeOptions.timeoutMs ?? 5000)),
  };
}

function closeServer(server: GrpcJs.Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), timeoutMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** grpc-js reports listen failures as text; an address this machine does not have is the host's fault, anything else the port's. */
function listenFault(error: Error): 'host' | 'port' {
  return /EADDRNOTAVAIL|EAFNOSUPPORT|ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|EAI_NODATA|Name resolution failed/.test(error.message) ? 'host' : 'port';
}


/** The runtime's logger, if a runtime can be had (never creates trouble on the error path). */
function runtimeLogger(runtime: () => Runtime): Logger | undefined {
  try {
    return runtime().logger;
  } catch {
    return undefined;
  }
}
