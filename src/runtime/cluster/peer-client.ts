/**
 * Calls from one cluster member to another over HTTP: a forwarded method
 * call (with the object's state after it), an object's state, a delete, and
 * a request to hand slots over. Errors come back as the same `OaasError`
 * classes the owner raised; a peer that could not be reached at all (the
 * request never left) is told apart, because only such a call is safe to
 * send again elsewhere.
 */
import { context, propagation } from '@opentelemetry/api';
import { RemoteError, type OaasError } from '../../errors.js';
import { checkSlots } from '../../cluster/slots.js';
import type { ObjectKey } from '../../identity.js';
import type { ObjectState, WireError } from '../../protocol/wire.js';
import { fromWireError } from '../../wire-errors.js';
import type { MemberAddress } from '../../cluster/membership.js';

/** The header a forwarded request carries: the sending member's id. The receiver never forwards it again. */
export const FORWARDED_HEADER = 'oaas-forwarded-by';

/** The routes of the member-to-member API (under the server's `/api`, behind its token). */
export const PEER_ROUTES = {
  invoke: '/api/cluster/invoke',
  handover: '/api/cluster/handover',
} as const;

/** What a forwarded call answers: the method's value and the object's state after it. */
export interface ForwardedReply {
  readonly value: unknown;
  readonly state: ObjectState;
}

/** The peer was not reached: nothing was sent, so the call may go elsewhere. */
export class PeerUnreachable {
  constructor(
    readonly peer: MemberAddress,
    readonly cause: unknown,
  ) {}
}

/** Connection errors that mean the request was never delivered. */
const NOT_DELIVERED: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

export class PeerClient {
  constructor(
    /** This member's id, sent with every request. */
    private readonly self: string,
    /** The bearer token the peers' servers check (the runtime's `token`). */
    private readonly token: string | undefined,
    /** How long one exchange may take. */
    private readonly timeoutMs: number,
  ) {}

  /** Runs a method on its owner; `body` is the invocation body as the public route takes it. */
  async invoke(peer: MemberAddress, key: ObjectKey, method: string, body: string, traceparent: string | undefined): Promise<ForwardedReply | PeerUnreachable> {
    const path = `${PEER_ROUTES.invoke}/${objectPath(key)}/${encodeURIComponent(method)}`;
    const reply = await this.send(peer, 'POST', path, body, traceparent);
    return reply instanceof PeerUnreachable ? reply : (reply as ForwardedReply);
  }

  /** The object's state as its owner holds it (live, pending changes included). */
  async state(peer: MemberAddress, key: ObjectKey): Promise<ObjectState | PeerUnreachable> {
    const reply = await this.send(peer, 'GET', `/api/class/${objectPath(key)}`, undefined, undefined);
    return reply instanceof PeerUnreachable ? reply : (reply as ObjectState);
  }

  /** Creates the object on its owner with `state`'s entries; a `ConflictError` when it exists already. */
  async create(peer: MemberAddress, key: ObjectKey, state: ObjectState): Promise<ObjectState | PeerUnreachable> {
    const reply = await this.send(peer, 'PUT', `/api/class/${objectPath(key)}`, JSON.stringify({ entries: state.entries, version: 0 }), undefined);
    return reply instanceof PeerUnreachable ? reply : (reply as ObjectState);
  }

  /** Deletes the object on its owner. */
  async delete(peer: MemberAddress, key: ObjectKey): Promise<undefined | PeerUnreachable> {
    const reply = await this.send(peer, 'DELETE', `/api/class/${objectPath(key)}`, undefined, undefined);
    return reply instanceof PeerUnreachable ? reply : undefined;
  }

  /** Asks the owner to flush and release `slots` for this member; resolves with those it released. */
  async handover(peer: MemberAddress, slots: readonly number[]): Promise<readonly number[] | PeerUnreachable> {
    const reply = await this.send(peer, 'POST', PEER_ROUTES.handover, JSON.stringify({ slots }), undefined);
    if (reply instanceof PeerUnreachable) return reply;
    const released = (reply as { released?: unknown } | undefined)?.released;
    if (!Array.isArray(released)) throw new RemoteError(`${peer.url}${PEER_ROUTES.handover}: the reply has no released slots`);
    return released as number[];
  }

  /**
   * Sends an HTTP request received here on to the owner, as it came (path,
   * query, headers, body), and hands back the owner's response, streams
   * included. A refusal that means nothing ran there (`NotOwnerError`, a
   * `ShutdownError`) is thrown, for the caller to route it again.
   */
  async relay(peer: MemberAddress, request: { method: string; pathAndQuery: string; headers: Headers; body: ArrayBuffer | undefined }): Promise<Response | PeerUnreachable> {
    const headers = new Headers(request.headers);
    for (const name of ['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding']) headers.delete(name);
    headers.set(FORWARDED_HEADER, this.self);
    // The timeout covers the wait for the reply's headers only: a streamed reply may run as long as it runs.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${peer.url}${request.pathAndQuery}`, { method: request.method, headers, body: request.body, redirect: 'manual', signal: controller.signal });
    } catch (error) {
      if (notDelivered(error)) return new PeerUnreachable(peer, error);
      const reason = controller.signal.aborted ? `no reply within ${this.timeoutMs} ms` : error instanceof Error ? error.message : String(error);
      throw new RemoteError(`${request.method} ${peer.url}${request.pathAndQuery}: ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const replyHeaders = new Headers(response.headers);
    for (const name of ['connection', 'content-length', 'keep-alive', 'transfer-encoding', 'content-encoding']) replyHeaders.delete(name);
    if (response.status !== 503) return new Response(response.body, { status: response.status, headers: replyHeaders });
    const text = await response.text().catch(() => '');
    const error = errorOf(text, `${request.method} ${peer.url}${request.pathAndQuery}: HTTP 503`);
    if (error.code === 'OAAS_ERR_NOT_OWNER' || error.code === 'OAAS_ERR_RUNTIME_SHUT_DOWN') throw error;
    return new Response(text, { status: 503, headers: replyHeaders });
  }

  private async send(peer: MemberAddress, method: string, path: string, body: string | undefined, traceparent: string | undefined): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json', [FORWARDED_HEADER]: this.self };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (traceparent !== undefined) headers.traceparent = traceparent;
    let response: Response;
    try {
      response = await fetch(`${peer.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (notDelivered(error)) return new PeerUnreachable(peer, error);
      throw new RemoteError(`${method} ${peer.url}${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new RemoteError(`${method} ${peer.url}${path}: the reply was cut off`, { cause: error });
    }
    if (!response.ok) throw errorOf(text, `${method} ${peer.url}${path}: HTTP ${response.status}`);
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new RemoteError(`${method} ${peer.url}${path}: the reply is not JSON`, { cause: error });
    }
  }
}

function objectPath(key: ObjectKey): string {
  return `${encodeURIComponent(key.clsId)}/${key.partitionId}/objects/${encodeURIComponent(key.objectId)}`;
}

function notDelivered(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && NOT_DELIVERED.has(code)) return true;
  }
  return false;
}

function errorOf(text: string, what: string): OaasError {
  let wire: Partial<WireError> | undefined;
  try {
    wire = (JSON.parse(text) as { error?: Partial<WireError> }).error;
  } catch {
    wire = undefined;
  }
  if (typeof wire?.code !== 'string' || typeof wire.message !== 'string') return new RemoteError(`${what} without an OaaS error body`);
  return fromWireError({ code: wire.code, message: wire.message, ...(typeof wire.type === 'string' ? { type: wire.type } : {}) });
}

/** Checks a handover request body: `{ slots: number[] }`. */
export function parseHandoverBody(body: unknown): readonly number[] {
  const slots = typeof body === 'object' && body !== null ? (body as { slots?: unknown }).slots : undefined;
  checkSlots(slots, 'slots');
  return slots;
}

/** The W3C trace context of the active span, for a call that continues it on another process. */
export function traceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}
