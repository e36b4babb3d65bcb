// Shared helpers of the remote suites: one harness shape for the app in process and on a socket.
import type { Hono } from 'hono';
import { connect } from '../../src/client/client.js';
import type { ClientOptions, OaasClient } from '../../src/client/types.js';
import { createApp, type ServerOptions } from '../../src/server/app.js';
import { serve } from '../../src/server/serve.js';

/** A server under test: raw requests and a typed client, the same way for both transports. */
export interface Harness {
  readonly name: string;
  readonly url: string;
  /** A raw request; `path` starts with `/`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  client(options?: Omit<ClientOptions, 'url' | 'fetch'>): OaasClient;
  close(): Promise<void>;
}

/** A `fetch` that hands requests to a hono app in process (no socket). */
export function appFetch(app: Hono<never> | { request: Hono['request'] }): typeof fetch {
  return async (input, init) => {
    const request = input instanceof Request ? input : new Request(input instanceof URL ? input.href : input, init);
    return await (app as Hono).request(request);
  };
}

/** The app in process: requests go through `app.request`, the client gets an injected fetch. */
export function inProcess(options: ServerOptions = {}): Harness {
  const app = createApp(options);
  const url = 'http://in-process.test';
  const fetcher = appFetch(app);
  return {
    name: 'in process',
    url,
    request: (path, init) => fetcher(`${url}${path}`, init),
    client: (options = {}) => connect({ ...options, url, fetch: fetcher }),
    close: () => Promise.resolve(),
  };
}

/** The app served on 127.0.0.1 on a free port, called with the real fetch. */
export async function onSocket(options: ServerOptions = {}): Promise<Harness> {
  const server = await serve({ ...options, port: 0 });
  return {
    name: 'on a socket',
    url: server.url,
    request: (path, init) => fetch(`${server.url}${path}`, init),
    client: (options = {}) => connect({ ...options, url: server.url }),
    close: () => server.close({ timeoutMs: 1000 }),
  };
}

/** The base path of a class and partition. */
export function classPath(clsId = 'remote.Counter', partition: string | number = 0): string {
  return `/api/class/${clsId}/${partition}`;
}

/** The path of an object (and of one of its methods). */
export function objectPath(id: string, method?: string, clsId = 'remote.Counter'): string {
  return `${classPath(clsId)}/objects/${id}${method === undefined ? '' : `/invokes/${method}`}`;
}

/** POSTs an invocation with a raw body. */
export function invoke(h: Harness, id: string, method: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return h.request(objectPath(id, method), { method: 'POST', body, headers });
}

/** PUTs an object's entries. */
export async function putObject(h: Harness, id: string, entries: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<Response> {
  return h.request(objectPath(id), { method: 'PUT', body: JSON.stringify({ entries, ...extra }), headers: { 'content-type': 'application/json' } });
}

/** The JSON body of a reply. */
export async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text()) as unknown;
}

/** Reads an SSE body into its events. */
export async function sseEvents(response: Response): Promise<{ event: string; data: string }[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? 'message';
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, '')).join('\n');
      return { event, data };
    });
}
