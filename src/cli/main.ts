/**
 * The `oaas` commands. Everything the process provides (streams, working
 * directory, environment, the HTTP server, stop signals) comes in through
 * {@link CliEnvironment}, so the commands run in process under test.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { INTERNAL_PACKAGE, exportPackage } from '../package/package-export.js';
import { registeredClasses } from '../registry/registry.js';
import { getAutoSessionManager, shutdown } from '../runtime/process-runtime.js';
import { USAGE, parseCliArgs, type PkgCommand, type ServeCommand } from './args.js';

/** Options of the HTTP server's `serve()` (`src/server/serve.ts`). */
export interface ServeOptions {
  port?: number;
  host?: string;
  token?: string;
  bodyLimitBytes?: number;
}

/** A running server, as `serve()` resolves it. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The signature of `serve()` in `src/server/serve.ts`. */
export type ServeFunction = (options: ServeOptions) => Promise<RunningServer>;

/** A running gRPC server, as `serveGrpc()` resolves it. */
export interface RunningGrpcServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The signature of `serveGrpc()` in `src/grpc/serve-grpc.ts`. */
export type GrpcServeFunction = (options: { port?: number; host?: string }) => Promise<RunningGrpcServer>;

/** What the commands use of the process. */
export interface CliEnvironment {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Module paths are resolved against it. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Loads the HTTP server (only `serve` needs it, so `pkg` never loads the server's dependencies). */
  readonly loadServe: () => Promise<ServeFunction>;
  /** Loads the gRPC function runtime (`serve --grpc`). @default the package's own `serveGrpc` */
  readonly loadServeGrpc?: (() => Promise<GrpcServeFunction>) | undefined;
  /** Resolves with the first stop signal; later ones must not kill the process while it stops. */
  readonly waitForStop: () => Promise<string>;
}

/** Exit codes. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** How long a stop may take before the process gives up: the server's close (5 s) and the flush (10 s) are bounded themselves. */
const STOP_TIMEOUT_MS = 20_000;

/** Loads the HTTP server lazily: `pkg` never pays for (or depends on) the server and its dependencies. */
async function loadServeFromPackage(): Promise<ServeFunction> {
  const { serve } = await import('../server/serve.js');
  return serve;
}

/** Loads the gRPC function runtime lazily, like the HTTP server. */
async function loadServeGrpcFromPackage(): Promise<GrpcServeFunction> {
  const { serveGrpc } = await import('../grpc/serve-grpc.js');
  return serveGrpc;
}

function waitForProcessStop(): Promise<string> {
  return new Promise((resolveStop) => {
    // The listeners stay: a repeated Ctrl-C (or a signal relayed twice by a wrapper) must not cut the flush short.
    process.on('SIGINT', resolveStop);
    process.on('SIGTERM', resolveStop);
  });
}

/** The real process. */
export function processEnvironment(): CliEnvironment {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    loadServe: loadServeFromPackage,
    loadServeGrpc: loadServeGrpcFromPackage,
    waitForStop: waitForProcessStop,
  };
}

/** Writes and waits until the text is handed to the OS, so exiting right after loses nothing. */
function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((done) => {
    stream.write(text, () => done());
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Imports the services module. A `.ts` module needs a TypeScript loader in
 * the process (tsx); without one Node refuses the extension, and the error
 * says how to run it.
 */
async function importModule(module: string, env: CliEnvironment): Promise<boolean> {
  const path = resolve(env.cwd, module);
  if (!existsSync(path)) {
    await write(env.stderr, `oaas: cannot import ${module}: ${path} does not exist\n`);
    return false;
  }
  try {
    await import(pathToFileURL(path).href);
    return true;
  } catch (error) {
    let hint = '';
    if ((error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(path)) {
      hint = '\n  TypeScript modules need a loader: NODE_OPTIONS="--import tsx" oaas ..., or compile the module first';
    }
    await write(env.stderr, `oaas: cannot import ${module}: ${messageOf(error)}${hint}\n`);
    return false;
  }
}

async function runPkg(command: PkgCommand, env: CliEnvironment): Promise<number> {
  if (!(await importModule(command.module, env))) return EXIT_FAILED;
  let text: string;
  try {
    const deploy = command.deploy;
    text = exportPackage({
      format: command.format,
      name: command.name,
      version: command.version,
      description: command.description,
      ...(deploy === undefined
        ? {}
        : {
            deploy: {
              image: deploy.image,
              port: deploy.port,
              deployments: deploy.deployments,
              targetEnvs: deploy.targetEnvs,
              partitions: deploy.partitions,
              replicas: deploy.replicas,
            },
          }),
    });
  } catch (error) {
    await write(env.stderr, `oaas pkg: ${messageOf(error)}\n`);
    return EXIT_FAILED;
  }
  await write(env.stdout, text);
  return EXIT_OK;
}

async function stop(server: { close(): Promise<void> }): Promise<void> {
  if (inCluster()) {
    // A member hands its objects over while its server still answers (relaying new requests to the others), then closes it.
    try {
      await shutdown();
    } finally {
      await server.close();
    }
    return;
  }
  try {
    await server.close();
  } finally {
    // Flush what the last requests changed, even when closing the server failed.
    await shutdown();
  }
}

/** True when the process-wide runtime is a cluster member (never creates one). */
function inCluster(): boolean {
  try {
    return getAutoSessionManager().cluster !== undefined;
  } catch {
    return false;
  }
}

async function serveHttpFor(command: ServeCommand, env: CliEnvironment): Promise<RunningServer> {
  const serve = await env.loadServe();
  const options: ServeOptions = { port: command.port };
  if (command.host !== undefined) options.host = command.host;
  if (command.token !== undefined) options.token = command.token;
  return serve(options);
}

/** The gRPC function runtime, announced as `grpc://host:port`. */
async function serveGrpcFor(command: ServeCommand, env: CliEnvironment): Promise<{ readonly url: string; close(): Promise<void> }> {
  const serveGrpc = await (env.loadServeGrpc ?? loadServeGrpcFromPackage)();
  const server = await serveGrpc(command.host === undefined ? { port: command.port } : { port: command.port, host: command.host });
  return { url: `grpc://${server.address}`, close: () => server.close() };
}

async function runServe(command: ServeCommand, env: CliEnvironment): Promise<number> {
  if (!(await importModule(command.module, env))) return EXIT_FAILED;
  if (!registeredClasses().some((meta) => meta.pkg !== INTERNAL_PACKAGE)) {
    await write(env.stderr, `oaas serve: warning: ${command.module} registered no @service classes (do the module and the CLI use the same oaas-sdk installation?)\n`);
  }
  const cluster = env.env.OAAS_CLUSTER_URL !== undefined && env.env.OAAS_CLUSTER_URL !== '';
  if (command.grpc && cluster) {
    // The other members relay requests to a member's HTTP URL, which a gRPC-only process does not serve.
    await write(env.stderr, 'oaas serve: --grpc does not run in cluster mode (OAAS_CLUSTER_URL): the members call each other over HTTP\n');
    return EXIT_FAILED;
  }
  let server: { readonly url: string; close(): Promise<void> };
  try {
    server = command.grpc ? await serveGrpcFor(command, env) : await serveHttpFor(command, env);
  } catch (error) {
    await write(env.stderr, `oaas serve: ${messageOf(error)}\n`);
    return EXIT_FAILED;
  }
  if (cluster) {
    // A cluster member joins now, not at its first request: the others route to it only once it has.
    try {
      await getAutoSessionManager().ready();
    } catch (error) {
      await write(env.stderr, `oaas serve: cannot join the cluster: ${messageOf(error)}\n`);
      await server.close().catch(() => undefined);
      await shutdown().catch(() => undefined);
      return EXIT_FAILED;
    }
  }
  // Listen for the stop signal before announcing the URL: whoever reads the line may signal at once.
  const stopSignal = env.waitForStop();
  await write(env.stdout, `listening on ${server.url}\n`);

  const signal = await stopSignal;
  await write(env.stderr, `oaas serve: ${signal}, stopping\n`);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), STOP_TIMEOUT_MS);
  });
  try {
    const outcome = await Promise.race([stop(server).then(() => 'stopped' as const), timedOut]);
    if (outcome === 'timeout') {
      await write(env.stderr, `oaas serve: did not stop within ${STOP_TIMEOUT_MS} ms\n`);
      return EXIT_FAILED;
    }
  } catch (error) {
    await write(env.stderr, `oaas serve: stopping failed: ${messageOf(error)}\n`);
    return EXIT_FAILED;
  } finally {
    clearTimeout(timer);
  }
  return EXIT_OK;
}

/**
 * Runs `oaas <argv>` and resolves with the exit code. `serve` resolves only
 * after a stop signal, once the server is closed and the runtime flushed.
 */
export async function runCli(argv: readonly string[], env: CliEnvironment = processEnvironment()): Promise<number> {
  const parsed = parseCliArgs(argv, env.env);
  switch (parsed.command) {
    case 'help':
      await write(env.stdout, USAGE);
      return EXIT_OK;
    case 'usage-error':
      await write(env.stderr, `oaas: ${parsed.message}\n\n${USAGE}`);
      return EXIT_USAGE;
    case 'pkg':
      return await runPkg(parsed, env);
    case 'serve':
      return await runServe(parsed, env);
  }
}
