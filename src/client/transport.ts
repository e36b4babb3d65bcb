/**
 * One HTTP exchange with an OaaS server: headers, timeout, and the error
 * contract. A JSON `{ error }` reply becomes the same `OaasError` subclass
 * (same code) the server raised; a failure on the way (unreachable, timed
 * out, a reply that is not OaaS JSON) becomes `RemoteError`.
 */
import { InvalidArgumentError, RemoteError, type OaasError } from '../errors.js';
import { DIALECT_HEADER } from '../protocol/wire.js';
import { fromWireError, type WireError } from '../wire-errors.js';
import type { ClientOptions } from './types.js';

/** One request. `path` starts with `/` and is already encoded. */
export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

/** A streaming reply whose body the caller reads; `cancel()` ends the request. */
export interface OpenReply {
  readonly response: Response;
  cancel(): void;
}

/** One request in flight. */
interface Exchange {
  readonly response: Response;
  /** Ends the request (and its timer). */
  readonly cancel: () => void;
  /** Rejects `work` when the request is cancelled or times out. */
  readonly guard: <T>(work: Promise<T>) => Promise<T>;
  readonly timedOut: () => boolean;
}

/** @default 30 s */
export const DEFAULT_TIMEOUT_MS = 30_000;

const IDEMPOTENCY_KEY = /^[\x20-\x7e]{1,200}$/;

/** Sends requests to one server. */
export class HttpTransport {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly traceparent: (() => string | undefined) | undefined;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || (options as unknown) === null) throw new InvalidArgumentError('options', 'expected { url }');
    this.url = checkUrl(options.url);
    const { token, timeoutMs, traceparent } = options;
    if (token !== undefined && (typeof token !== 'string' || token === '' || /\s/.test(token))) {
      throw new InvalidArgumentError('token', 'expected a non-empty token without spaces');
    }
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 2_147_483_647)) {
      throw new InvalidArgumentError('timeoutMs', 'expected a number of milliseconds > 0');
    }
    if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new InvalidArgumentError('fetch', 'expected a function');
    if (traceparent !== undefined && typeof traceparent !== 'string' && typeof traceparent !== 'function') {
      throw new InvalidArgumentError('traceparent', 'expected a string or a function');
    }
    this.token = token;
    this.timeoutMs = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.traceparent = typeof traceparent === 'string' ? () => traceparent : traceparent;
  }

  /** Sends a call and resolves with its JSON reply (`undefined` for an empty one); the timeout covers the whole exchange. */
  async json(call: HttpCall): Promise<unknown> {
    const exchange = await this.send(call, 'application/json', false);
    try {
      const text = await exchange.guard(exchange.response.text()).catch((error: unknown) => {
        throw exchange.timedOut() ? this.timeoutError(call, error) : new RemoteError(`${this.describe(call)}: the reply was cut off`, { cause: error });
      });
      if (!exchange.response.ok) throw errorOf(exchange.response, text, this.describe(call));
      if (text === '') return undefined;
      return parseReply(text, this.describe(call));
    } finally {
      exchange.cancel();
    }
  }

  /** Sends a call whose reply may be a stream; the timeout covers only the wait for the reply's headers. */
  async open(call: HttpCall): Promise<OpenReply> {
    const { response, cancel } = await this.send(call, 'text/event-stream, application/json', true);
    if (!response.ok) {
      try {
        throw errorOf(response, await response.text().catch(() => ''), this.describe(call));
      } finally {
        cancel();
      }
    }
    return {
      response,
      cancel: () => {
        cancel();
        response.body?.cancel().catch(() => undefined);
      },
    };
  }

  private async send(call: HttpCall, accept: string, headersOnly: boolean): Promise<Exchange> {
    const headers: Record<string, string> = { accept };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    const traceparent = this.traceparent?.();
    if (traceparent !== undefined) headers.traceparent = traceparent;
    if (call.idempotencyKey !== undefined) {
      if (typeof call.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(call.idempotencyKey)) {
        throw new InvalidArgumentError('idempotencyKey', 'expected 1 to 200 printable ASCII characters');
      }
      headers['idempotency-key'] = call.idempotencyKey;
    }
    const controller = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      controller.abort();
    }, this.timeoutMs);
    // An injected fetch (an in-process app) may ignore the signal: race it, so the timeout holds for any fetch.
    const abandoned = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(new RemoteError('the request was abandoned')), { once: true });
    });
    abandoned.catch(() => undefined);
    const guard = <T>(work: Promise<T>): Promise<T> => Promise.race([work, abandoned]);
    const cancel = (): void => {
      clearTimeout(timer);
      controller.abort();
    };
    let response: Response;
    try {
      response = await guard(this.fetch(`${this.url}${call.path}`, { method: call.method, headers, body: call.body, signal: controller.signal }));
    } catch (error) {
      cancel();
      if (expired) throw this.timeoutError(call, error);
      throw new RemoteError(`${this.describe(call)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (response.headers.get(DIALECT_HEADER) === 'oparaca') {
      // There an application error is a 200 with a payload: taking replies as results would take failures for values.
      cancel();
      throw new RemoteError(`${this.describe(call)}: the server speaks the Oparaca gateway dialect; the typed client needs a server in the SDK's own dialect (dialect 'oaas')`);
    }
    if (headersOnly) clearTimeout(timer);
    return { response, cancel, guard, timedOut: () => expired };
  }

  private timeoutError(call: HttpCall, cause: unknown): RemoteError {
    return new RemoteError(`${this.describe(call)}: no reply within ${this.timeoutMs} ms`, { cause });
  }

  private describe(call: HttpCall): string {
    return `${call.method} ${this.url}${call.path}`;
  }
}

/** The error a failed reply stands for. */
function errorOf(response: Response, text: string, what: string): OaasError {
  const wire = wireErrorIn(text);
  if (wire !== undefined) return fromWireError(wire);
  return new RemoteError(`${what}: HTTP ${response.status} without an OaaS error body`);
}

function wireErrorIn(text: string): WireError | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, type } = error as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  return { code, message, ...(typeof type === 'string' ? { type } : {}) };
}

/** Parses a successful reply. */
export function parseReply(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RemoteError(`${what}: the reply is not JSON`, { cause: error });
  }
}

/** Rebuilds the error an SSE `error` event carries. */
export function streamError(data: string, what: string): OaasError {
  const wire = wireErrorIn(data);
  return wire === undefined ? new RemoteError(`${what}: the stream failed with an unreadable error event`) : fromWireError(wire);
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw new InvalidArgumentError('url', 'expected an http(s) URL');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new InvalidArgumentError('url', `expected an http(s) URL, got ${JSON.stringify(url)}`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidArgumentError('url', 'expected an http(s) URL');
  if (parsed.search !== '' || parsed.hash !== '') throw new InvalidArgumentError('url', 'expected a base URL without query or fragment');
  return url.replace(/\/+$/, '');
}
