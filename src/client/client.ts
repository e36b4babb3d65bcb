/**
 * The typed remote client. It depends on the registry (for class ids and
 * method metadata), the error table and shared types; never on the server
 * or the runtime.
 */
import { InvalidArgumentError, InvalidIdError, RemoteError } from '../errors.js';
import type { WireWatchEvent } from '../protocol/events.js';
import type { ObjectListing, ObjectState } from '../protocol/wire.js';
import type { OaasObject } from '../object/oaas-object.js';
import type { ClassMeta } from '../registry/class-meta.js';
import { encodeArgs, jsonOf } from '../registry/encode-arguments.js';
import { requireClassMeta } from '../registry/require-class.js';
import { readEvents } from './sse.js';
import { HttpTransport, parseReply, streamError, type HttpCall } from './transport.js';
import type {
  ClientOptions,
  InvokeOptions,
  ListObjectsOptions,
  OaasClient,
  ObjectOptions,
  PutState,
  RefOptions,
  RemoteClassWatchOptions,
  RemoteWatchOptions,
  RemoteRef,
  ServiceClass,
} from './types.js';

/**
 * Connects to an OaaS server. No request is made until the first call.
 *
 * @example
 * const client = connect({ url: 'http://127.0.0.1:8080', token: process.env.API_TOKEN });
 * const counter = client.ref(Counter, 'c1');
 * console.log(await counter.increment(2));
 * for await (const step of client.ref(Job, 'j1').run(3)) console.log(step);
 */
export function connect(options: ClientOptions): OaasClient {
  return new RemoteClient(new HttpTransport(options));
}

/** Where a call goes: a class id, a partition, an object (absent for stateless calls). */
export interface Target {
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId?: string | undefined;
}

/** The client over any class id (the legacy transport calls it with ids instead of classes). */
export class RemoteClient implements OaasClient {
  constructor(private readonly http: HttpTransport) {}

  get url(): string {
    return this.http.url;
  }

  ref<T extends OaasObject>(Cls: ServiceClass<T>, id: string | number, options: RefOptions = {}): RemoteRef<T> {
    const meta = requireClassMeta(Cls);
    const target: Target = { clsId: meta.clsId, partitionId: partitionOf(options.partitionId), objectId: objectIdOf(id) };
    const key = options.idempotencyKey;
    return new Proxy(Object.create(null) as object, {
      get: (_stub, prop) => {
        // Not invocable: symbols, and the names `await` and JSON.stringify probe.
        if (typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return undefined;
        const method = meta.methods.get(prop);
        const name = method?.name ?? prop;
        if (method?.streaming === true) return (...args: unknown[]) => this.streamArgs(target, meta, name, args);
        return (...args: unknown[]) => this.later(() => this.invokeAt(target, name, encodeArgs(meta, name, args), key));
      },
    }) as RemoteRef<T>;
  }

  invoke(Cls: ServiceClass<OaasObject>, id: string | number, method: string, args: readonly unknown[] = [], options: InvokeOptions = {}): Promise<unknown> {
    return this.later(() => {
      const meta = requireClassMeta(Cls);
      if (meta.methodsByName.get(method)?.streaming === true) throw new InvalidArgumentError('method', `${method} is a streaming method: use client.stream() or a ref`);
      const target = { clsId: meta.clsId, partitionId: partitionOf(options.partitionId), objectId: objectIdOf(id) };
      return this.invokeAt(target, method, encodeArgs(meta, method, args), options.idempotencyKey);
    });
  }

  invokeStateless(Cls: ServiceClass<OaasObject>, method: string, args: readonly unknown[] = [], options: ObjectOptions = {}): Promise<unknown> {
    return this.later(() => {
      const meta = requireClassMeta(Cls);
      return this.invokeAt({ clsId: meta.clsId, partitionId: partitionOf(options.partitionId) }, method, encodeArgs(meta, method, args));
    });
  }

  stream(Cls: ServiceClass<OaasObject>, id: string | number, method: string, args: readonly unknown[] = [], options: ObjectOptions = {}): AsyncIterable<unknown> {
    const meta = requireClassMeta(Cls);
    return this.streamArgs({ clsId: meta.clsId, partitionId: partitionOf(options.partitionId), objectId: objectIdOf(id) }, meta, method, args);
  }

  get(Cls: ServiceClass<OaasObject>, id: string | number, options: ObjectOptions = {}): Promise<ObjectState> {
    return this.later(async () => (await this.http.json({ method: 'GET', path: objectPath(this.targetOf(Cls, id, options)) })) as ObjectState);
  }

  put(Cls: ServiceClass<OaasObject>, id: string | number, state: PutState, options: ObjectOptions = {}): Promise<ObjectState> {
    return this.later(async () => {
      const body = jsonOf(state, 'state');
      return (await this.http.json({ method: 'PUT', path: objectPath(this.targetOf(Cls, id, options)), body })) as ObjectState;
    });
  }

  delete(Cls: ServiceClass<OaasObject>, id: string | number, options: ObjectOptions = {}): Promise<void> {
    return this.later(async () => {
      await this.http.json({ method: 'DELETE', path: objectPath(this.targetOf(Cls, id, options)) });
    });
  }

  list(Cls: ServiceClass<OaasObject>, options: ListObjectsOptions = {}): Promise<ObjectListing> {
    return this.later(async () => {
      const meta = requireClassMeta(Cls);
      const query = new URLSearchParams();
      if (options.prefix !== undefined) query.set('prefix', options.prefix);
      if (options.limit !== undefined) query.set('limit', String(options.limit));
      if (options.cursor !== undefined) query.set('cursor', options.cursor);
      const search = query.size === 0 ? '' : `?${query.toString()}`;
      const path = `${classPath({ clsId: meta.clsId, partitionId: partitionOf(options.partitionId) })}/objects${search}`;
      return (await this.http.json({ method: 'GET', path })) as ObjectListing;
    });
  }

  async ready(): Promise<boolean> {
    try {
      await this.http.json({ method: 'GET', path: '/readyz' });
      return true;
    } catch {
      return false;
    }
  }

  watch(Cls: ServiceClass<OaasObject>, id: string | number, options: RemoteWatchOptions = {}): AsyncIterable<WireWatchEvent> {
    const target = this.targetOf(Cls, id, options);
    const since = options.since;
    if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) throw new InvalidArgumentError('since', 'expected a version (an integer of at least 0)');
    return this.events(`${objectPath(target)}/events${since === undefined ? '' : `?lastEventId=${since}`}`);
  }

  watchClass(Cls: ServiceClass<OaasObject>, options: RemoteClassWatchOptions = {}): AsyncIterable<WireWatchEvent> {
    const meta = requireClassMeta(Cls);
    const after = options.after;
    if (after !== undefined && (typeof after.objectId !== 'string' || !Number.isSafeInteger(after.version) || after.version < 0)) {
      throw new InvalidArgumentError('after', 'expected { objectId, version }');
    }
    const query = after === undefined ? '' : `?lastEventId=${encodeURIComponent(`${after.objectId}:${after.version}`)}`;
    return this.events(`${classPath({ clsId: meta.clsId, partitionId: partitionOf(options.partitionId) })}/events${query}`);
  }

  /** Reads an event stream; the request starts when iteration does and ends when it stops. */
  private async *events(path: string): AsyncGenerator<WireWatchEvent, void, undefined> {
    const reply = await this.http.open({ method: 'GET', path });
    let events: AsyncGenerator<{ event: string; data: string }> | undefined;
    try {
      const { response } = reply;
      if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
        throw new RemoteError(`GET ${path}: the server did not answer with an event stream`);
      }
      events = readEvents(response.body);
      for (;;) {
        let step: IteratorResult<{ event: string; data: string }>;
        try {
          step = await events.next();
        } catch (error) {
          throw new RemoteError(`GET ${path}: the event stream was cut off`, { cause: error });
        }
        if (step.done === true) throw new RemoteError(`GET ${path}: the event stream ended (the connection was lost); watch again with since`);
        if (step.value.event === 'message') yield parseReply(step.value.data, `GET ${path}`) as WireWatchEvent;
      }
    } finally {
      await events?.return(undefined).catch(() => undefined);
      reply.cancel();
    }
  }

  /** Invokes a member by its invocation name, with an already encoded body. */
  async invokeAt(target: Target, method: string, body: string | undefined, idempotencyKey?: string): Promise<unknown> {
    const call: HttpCall = { method: 'POST', path: invokePath(target, method), body, idempotencyKey };
    const reply = await this.http.open(call);
    const type = reply.response.headers.get('content-type') ?? '';
    if (type.startsWith('text/event-stream')) {
      reply.cancel();
      throw new InvalidArgumentError('method', `${method} is a streaming method: iterate it through a ref or client.stream()`);
    }
    try {
      const text = await reply.response.text();
      return text === '' ? undefined : parseReply(text, `POST ${call.path}`);
    } catch (error) {
      if (error instanceof RemoteError) throw error;
      throw new RemoteError(`POST ${call.path}: the reply was cut off`, { cause: error });
    } finally {
      reply.cancel();
    }
  }

  /** Streams a member's values; the request starts when iteration does. A JSON (non-stream) reply is one value. */
  async *streamAt(target: Target, method: string, body: string | undefined): AsyncGenerator<unknown, void, undefined> {
    const path = invokePath(target, method);
    const reply = await this.http.open({ method: 'POST', path, body });
    let events: AsyncGenerator<{ event: string; data: string }> | undefined;
    try {
      const { response } = reply;
      if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        const text = await response.text();
        if (text !== '') yield parseReply(text, `POST ${path}`);
        return;
      }
      if (response.body === null) throw new RemoteError(`POST ${path}: the stream has no body`);
      events = readEvents(response.body);
      for (;;) {
        let step: IteratorResult<{ event: string; data: string }>;
        try {
          step = await events.next();
        } catch (error) {
          throw new RemoteError(`POST ${path}: the stream was cut off`, { cause: error });
        }
        if (step.done === true) throw new RemoteError(`POST ${path}: the stream ended before its end event (the connection was lost)`);
        const { event, data } = step.value;
        if (event === 'end') return;
        if (event === 'error') throw streamError(data, `POST ${path}`);
        if (event === 'message') yield parseReply(data, `POST ${path}`);
      }
    } finally {
      // Stopping early (break, return, throw) cancels the request: the server ends the method, which keeps its last checkpoint.
      await events?.return(undefined).catch(() => undefined);
      reply.cancel();
    }
  }

  /** Like {@link streamAt}, encoding the arguments when iteration starts (so a bad argument fails the iteration, not the call). */
  private async *streamArgs(target: Target, meta: ClassMeta, method: string, args: readonly unknown[]): AsyncGenerator<unknown, void, undefined> {
    yield* this.streamAt(target, method, encodeArgs(meta, method, args));
  }

  private targetOf(Cls: ServiceClass<OaasObject>, id: string | number, options: ObjectOptions): Target {
    return { clsId: requireClassMeta(Cls).clsId, partitionId: partitionOf(options.partitionId), objectId: objectIdOf(id) };
  }

  /** Runs `fn` so that argument errors reject the returned promise rather than throw synchronously. */
  private async later<T>(fn: () => T | Promise<T>): Promise<T> {
    return fn();
  }
}


function partitionOf(partitionId: unknown): number {
  if (partitionId === undefined) return 0;
  if (typeof partitionId !== 'number' || !Number.isSafeInteger(partitionId) || partitionId < 0 || partitionId > 2_147_483_647) {
    throw new InvalidArgumentError('partitionId', 'expected an integer from 0 to 2147483647');
  }
  return partitionId;
}

/** Ids are checked by the server; `.` and `..` cannot be sent at all, since URLs resolve them as path steps. */
function objectIdOf(id: unknown): string {
  if (typeof id !== 'string' && typeof id !== 'number') throw new InvalidIdError(id, 'object id must be a string or a number');
  const text = String(id);
  if (text === '.' || text === '..') throw new InvalidIdError(id, `object id ${JSON.stringify(text)} cannot be addressed over HTTP`);
  return text;
}

function classPath(target: Target): string {
  return `/api/class/${encodeURIComponent(target.clsId)}/${target.partitionId}`;
}

function objectPath(target: Target): string {
  return `${classPath(target)}/objects/${encodeURIComponent(target.objectId!)}`;
}

function invokePath(target: Target, method: string): string {
  if (typeof method !== 'string' || method === '' || method === '.' || method === '..') throw new InvalidArgumentError('method', 'expected a method name');
  const prefix = target.objectId === undefined ? classPath(target) : objectPath(target);
  return `${prefix}/invokes/${encodeURIComponent(method)}`;
}
