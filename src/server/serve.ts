/**
 * Serves {@link createApp} on a socket with `@hono/node-server`.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve as nodeServe } from '@hono/node-server';
import { ConfigurationError } from '../errors.js';
import { checkKnownOptions } from '../config.js';
import { createApp, SERVER_OPTIONS, type ServerOptions } from './app.js';
import { checkHost, checkPort } from './listen-options.js';

/** Options of {@link serve}: the app's, plus where to listen. */
export type ServeOptions = ServerOptions & {
  /** The TCP port; 0 picks a free one (read it from `RunningServer.port`). @default HTTP_PORT ?? 8080 */
  port?: number | undefined;
  /**
   * The interface to listen on. Only this machine can call by default; use
   * `'0.0.0.0'` (with a `token`) to serve other hosts. @default '127.0.0.1'
   */
  host?: string | undefined;
};

const SERVE_OPTIONS: ReadonlySet<string> = new Set(['port', 'host', ...SERVER_OPTIONS]);

/** Options of {@link RunningServer.close}. */
export interface CloseOptions {
  /** How long requests still running (streams included) may take before their connections are cut. @default 5000 */
  timeoutMs?: number | undefined;
}

/** A server that is listening. */
export interface RunningServer {
  /** `http://host:port`, ready for `connect({ url })`. */
  readonly url: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /**
   * Stops accepting connections, closes idle keep-alive ones, lets running
   * requests finish (cutting them after `timeoutMs`) and resolves once the
   * socket is closed. It does not shut the SDK runtime down: call
   * `shutdown()` after it, so pending commits are flushed.
   */
  close(options?: CloseOptions): Promise<void>;
}

/**
 * Starts an HTTP server for every registered class.
 *
 * @example
 * const server = await serve({ port: 8080, token: process.env.API_TOKEN });
 * process.once('SIGTERM', async () => {
 *   await server.close();
 *   await shutdown();
 * });
 */
export async function serve(options: ServeOptions = {}): Promise<RunningServer> {
  if (typeof options !== 'object' || (options as unknown) === null) throw new ConfigurationError('options', 'expected an object');
  checkKnownOptions(options, SERVE_OPTIONS);
  const { port: givenPort, host: givenHost, ...appOptions } = options;
  const port = checkPort(givenPort);
  const host = checkHost(givenHost);
  const app = createApp(appOptions);
  const server = await new Promise<Server>((resolve, reject) => {
    const started = nodeServe({ fetch: app.fetch, port, hostname: host }) as Server;
    const onError = (error: Error): void => {
      reject(new ConfigurationError(listenFault(error), `cannot listen on ${host}:${port}: ${error.message}`, { cause: error }));
    };
    started.once('error', onError);
    started.once('listening', () => {
      started.off('error', onError);
      resolve(started);
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: (closeOptions = {}) => (closing ??= closeServer(server, closeOptions.timeoutMs ?? 5000)),
  };
}

/** Listen errors that mean the interface, not the port, is wrong: an address this machine does not have, or a name that does not resolve. */
const HOST_ERRORS: ReadonlySet<string> = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/** The option a listen error is about: `host` for an unusable address, else `port` (in use, or not allowed: EADDRINUSE, EACCES). */
function listenFault(error: Error): 'host' | 'port' {
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && HOST_ERRORS.has(code) ? 'host' : 'port';
}

function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close((error) => {
      clearTimeout(timer);
      if (error === undefined) resolve();
      else reject(error);
    });
    server.closeIdleConnections();
  });
}

