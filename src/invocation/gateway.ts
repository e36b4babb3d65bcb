/**
 * What the HTTP server (or any other transport) calls: invocation, object
 * state, listing and readiness, with the semantics of the OaaS gateway. Every
 * call validates its input, runs in its own session, and resolves only once
 * its changes are committed; failures are `OaasError`s whose codes map to
 * HTTP statuses (see `ERROR_CODES`).
 */
import { ROOT_CONTEXT, context, propagation } from '@opentelemetry/api';
import type { Runtime } from '../runtime/runtime.js';
import { inSpan } from '../observability/tracing.js';
import {
  AlreadyExistsError,
  ApplicationError,
  ClassNotFoundError,
  ConflictError,
  InvalidArgumentError,
  MethodNotFoundError,
  NotOwnerError,
  ObjectNotFoundError,
  OaasError,
} from '../errors.js';
import { decodeState } from '../object/codec.js';
import { wireStateOf } from '../object/wire-state.js';
import { normalizeObjectId, normalizePartitionId } from '../identity.js';
import { callMethod, coreOf, type OaasObject } from '../object/oaas-object.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { checkArguments } from '../registry/param-schema.js';
import { findClassMetaById } from '../registry/registry.js';
import { LIST_LIMIT } from '../stores/store.js';
import { decodeArguments } from './dispatcher.js';
import type { ObjectListing, ObjectState } from '../protocol/wire.js';
import { findIdempotentResult, idempotencyId, recordIdempotentResult } from '../runtime/idempotency.js';
import { payloadArguments } from './payload-arguments.js';

export type { ObjectListing, ObjectState };

/** One invocation as a transport received it. */
export interface InvokeCall {
  readonly clsId: string;
  readonly partitionId: unknown;
  /** Absent for a stateless method. */
  readonly objectId?: string | undefined;
  readonly method: string;
  /** The raw request body: JSON of the argument (or of an array of arguments); empty for none. */
  readonly body?: string | undefined;
  /**
   * The body as bytes, in place of `body`, for transports whose payloads may
   * be binary (the Oparaca platform's): a UTF-8 JSON payload is read as
   * `body` is; any other reaches the method as one `Uint8Array` argument.
   */
  readonly payload?: Uint8Array | undefined;
  /**
   * A method on an object that does not exist yet runs on a fresh one
   * (created with its defaults, committed with the call), as on the Oparaca
   * platform, instead of failing with `ObjectNotFoundError`.
   */
  readonly createMissing?: boolean | undefined;
  /** A repeated key for the same object and method returns the first result without running again. */
  readonly idempotencyKey?: string | undefined;
  /** The caller's W3C trace context; the invocation's span continues it. */
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
  /**
   * A call forwarded from another cluster member's instance: it runs as an
   * in-process call on the owner (a turn, committed in the background like
   * every in-process call there, not before the reply), and the reply
   * carries the object's state after it.
   */
  readonly withState?: boolean | undefined;
}

/** A finished call's value, or a stream of values from an `async *` method. */
export type InvokeOutcome =
  | { readonly kind: 'value'; readonly value: unknown; readonly state?: ObjectState | undefined }
  | { readonly kind: 'stream'; readonly stream: AsyncGenerator<unknown> };



/** Options of {@link Gateway}. */
export interface GatewayOptions {
  /** How many times an invocation re-runs on fresh state after a `ConflictError` at its commit. @default 3 */
  readonly conflictRetries?: number | undefined;
}

const MAX_IDEMPOTENCY_KEY = 200;

/** The gateway semantics over the current runtime. */
export class Gateway {
  private readonly conflictRetries: number;

  constructor(
    private readonly runtime: () => Runtime,
    options: GatewayOptions = {},
  ) {
    this.conflictRetries = options.conflictRetries ?? 3;
  }

  /** Resolves a class id to a service class; internal classes (`oaas.*`) are not reachable. */
  classOf(clsId: string): ClassMeta {
    const meta = findClassMetaById(clsId);
    if (meta === undefined || meta.pkg === 'oaas') throw new ClassNotFoundError(clsId);
    return meta;
  }

  /** Invokes a method, getter or setter; resolves after the call's changes are committed. */
  async invoke(call: InvokeCall): Promise<InvokeOutcome> {
    const carrier: Record<string, string> = {};
    if (call.traceparent !== undefined) carrier.traceparent = call.traceparent;
    if (call.tracestate !== undefined) carrier.tracestate = call.tracestate;
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    return context.with(parent, () =>
      inSpan('oaas.invoke', () => ({ 'oaas.class': call.clsId, 'oaas.method': call.method }), () => this.invokeTraced(call)),
    );
  }

  private async invokeTraced(call: InvokeCall): Promise<InvokeOutcome> {
    const meta = this.classOf(call.clsId);
    const member = findMember(meta, call.method);
    const partitionId = normalizePartitionId(call.partitionId);
    const arity = member.kind === 'method' ? member.method.arity : member.accessor.kind === 'setter' ? 1 : 0;
    const decoded = call.payload === undefined ? decodeArguments(call.body, { name: call.method, arity }) : payloadArguments(call.payload, { name: call.method, arity });
    // Before anything is loaded or run: a bad argument changes nothing. The method gets the checked (maybe transformed) values.
    const args = member.kind === 'method' ? await checkArguments(member.method, decoded) : decoded;
    const key = call.idempotencyKey;
    if (key !== undefined && (key === '' || key.length > MAX_IDEMPOTENCY_KEY)) {
      throw new InvalidArgumentError('Idempotency-Key', `must be 1 to ${MAX_IDEMPOTENCY_KEY} characters`);
    }
    const runtime = this.runtime();
    if (member.kind === 'method' && member.method.stateless) {
      const detached = new (meta.ctor as new () => OaasObject)();
      const method = member.method;
      if (method.streaming) return { kind: 'stream', stream: callMethod(detached, method, args) as AsyncGenerator<unknown> };
      return { kind: 'value', value: await runtime.runInSession(() => callApp(() => callMethod(detached, method, args))) };
    }
    if (call.objectId === undefined) throw new InvalidArgumentError('objectId', `${call.method} is not stateless: name an object`);
    const objectId = normalizeObjectId(call.objectId);
    if (member.kind === 'method' && member.method.streaming) {
      return { kind: 'stream', stream: this.stream(runtime, meta, member.method, objectId, partitionId, args, call.createMissing === true) };
    }
    const run = (target: OaasObject): unknown =>
      member.kind === 'method'
        ? callMethod(target, member.method, args)
        : (target as unknown as Record<string, (...a: unknown[]) => unknown>)[member.accessor.name]!(...args);
    if (call.withState === true) {
      // A call forwarded from another member's instance runs as an in-process call on the owner: a turn, write-behind.
      return runtime.runInSession(async () => {
        const target = await loadHere(runtime, meta, objectId, partitionId);
        const value = await callApp(() => run(target));
        return { kind: 'value', value, state: stateOf(target) } as const;
      });
    }
    const recordId = key === undefined ? undefined : idempotencyId(meta.clsId, objectId, call.method, key);
    for (let attempt = 0; ; attempt++) {
      try {
        const value = await runtime.sessionScope(
          async () => {
            if (recordId !== undefined) {
              const seen = await findRecord(runtime, recordId, partitionId);
              if (seen !== undefined) return seen;
            }
            const target = call.createMissing === true ? await loadOrCreate(runtime, meta, objectId, partitionId) : await loadHere(runtime, meta, objectId, partitionId);
            const result = await callApp(() => run(target));
            if (recordId !== undefined) recordIdempotentResult((ctor, init, options) => runtime.create(ctor, init, options), recordId, partitionId, toJsonValue(result), runtime.idempotencyExpiry());
            return result;
          },
          { partitionId, retries: this.conflictRetries },
        );
        return { kind: 'value', value };
      } catch (error) {
        // Two requests with one key raced: the loser's record clashed with the winner's; run once more to return the winner's result.
        if (recordId !== undefined && attempt === 0 && error instanceof AlreadyExistsError && error.refs.some((r) => r.objectId === recordId)) continue;
        // Two calls created the same missing object: the loser runs once more, on the winner's.
        if (call.createMissing === true && attempt === 0 && error instanceof AlreadyExistsError && error.refs.some((r) => r.objectId === objectId)) continue;
        throw error;
      }
    }
  }

  private async *stream(
    runtime: Runtime,
    meta: ClassMeta,
    method: MethodMeta,
    objectId: string,
    partitionId: number,
    args: unknown[],
    createMissing: boolean,
  ): AsyncGenerator<unknown> {
    const target = createMissing ? await loadOrCreate(runtime, meta, objectId, partitionId) : await loadHere(runtime, meta, objectId, partitionId);
    const values = callMethod(target, method, args) as AsyncGenerator<unknown>;
    try {
      for await (const value of values) yield value;
    } catch (error) {
      throw error instanceof OaasError ? error : new ApplicationError(errorName(error), errorMessage(error), { cause: error });
    }
    // What the stream changed after its last checkpoint is committed before the stream ends.
    await runtime.commitObjects([target]);
  }

  /** The object's state. */
  async getState(clsId: string, partitionId: unknown, objectId: string): Promise<ObjectState> {
    const meta = this.classOf(clsId);
    const p = normalizePartitionId(partitionId);
    // Fresh: another process may have changed it; a live instance with pending changes is served as it is.
    const runtime = this.runtime();
    const target = await runtime.runInSession(() => runtime.load(meta.ctor as abstract new () => OaasObject, normalizeObjectId(objectId), { partitionId: p, fresh: true }));
    return stateOf(target);
  }

  /**
   * Creates or replaces an object's state: the given entries are set, the
   * fields not given go back to their defaults (or, with `keepAbsent`, keep
   * their values: an upsert). A `version` in the body must match the stored
   * one (optimistic concurrency).
   */
  async putState(clsId: string, partitionId: unknown, objectId: string, body: unknown, options: { keepAbsent?: boolean } = {}): Promise<ObjectState> {
    const meta = this.classOf(clsId);
    const p = normalizePartitionId(partitionId);
    const id = normalizeObjectId(objectId);
    const { entries, version } = parseStateBody(body);
    const runtime = this.runtime();
    return runtime.sessionScope(
      async () => {
        let target: OaasObject;
        try {
          target = await loadHere(runtime, meta, id, p);
        } catch (error) {
          if (!(error instanceof ObjectNotFoundError)) throw error;
          target = runtime.create(meta.ctor as abstract new () => OaasObject, {}, { id, partitionId: p });
        }
        const core = coreOf(target);
        if (version !== undefined && version !== core.version) {
          throw new ConflictError([{ ref: core.key, expected: version, actual: core.version }]);
        }
        const defaults = new (meta.ctor as new () => OaasObject)() as unknown as Record<string, unknown>;
        const values = new Map<string, unknown>();
        for (const [entryKey, wire] of Object.entries(entries)) {
          const prop = core.fields.propOf(entryKey);
          if (prop === undefined) throw new InvalidArgumentError('entries', `${entryKey} is not a state field of ${meta.clsId}`);
          values.set(prop, fromJsonValue(wire, entryKey));
        }
        const writable = target as unknown as Record<string, unknown>;
        for (const prop of core.fields.props) {
          if (values.has(prop)) writable[prop] = values.get(prop);
          else if (options.keepAbsent !== true) writable[prop] = defaults[prop];
        }
        return target;
      },
      { partitionId: p, retries: this.conflictRetries },
    ).then(stateOf);
  }

  /** Deletes an object; deleting a missing object succeeds (idempotent). */
  async deleteObject(clsId: string, partitionId: unknown, objectId: string): Promise<void> {
    const meta = this.classOf(clsId);
    const p = normalizePartitionId(partitionId);
    const id = normalizeObjectId(objectId);
    try {
      const runtime = this.runtime();
      await runtime.sessionScope(async () => (await loadHere(runtime, meta, id, p)).delete(), { partitionId: p, retries: this.conflictRetries });
    } catch (error) {
      if (!(error instanceof ObjectNotFoundError)) throw error;
    }
  }

  /** Lists the objects of a class and partition, ordered by id. */
  async list(clsId: string, partitionId: unknown, query: { prefix?: string | undefined; limit?: string | number | undefined; cursor?: string | undefined }): Promise<ObjectListing> {
    const meta = this.classOf(clsId);
    const p = normalizePartitionId(partitionId);
    const limit = query.limit === undefined || query.limit === '' ? LIST_LIMIT.default : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
      throw new InvalidArgumentError('limit', `must be an integer from 1 to ${LIST_LIMIT.max}`);
    }
    const page = await this.runtime().storeView.list(meta.clsId, p, { prefix: query.prefix, limit, cursor: query.cursor === '' ? undefined : query.cursor });
    return {
      objects: page.objects.map((o) => ({ object_id: o.objectId, version: o.version, entry_count: o.entryCount })),
      ...(page.nextCursor === undefined ? {} : { next_cursor: page.nextCursor }),
    };
  }

  /** True when the runtime is open and its store answers. */
  async ready(): Promise<boolean> {
    return (await this.runtime().healthCheck()).ok;
  }
}

type Member = { readonly kind: 'method'; readonly method: MethodMeta } | { readonly kind: 'accessor'; readonly accessor: AccessorMeta };

/** Only `@method`, `@getter` and `@setter` members are reachable: never `constructor`, prototype names or plain methods. */
function findMember(meta: ClassMeta, name: string): Member {
  if (name.startsWith('_')) throw new MethodNotFoundError(meta.clsId, name);
  const method = meta.methodsByName.get(name);
  if (method !== undefined) return { kind: 'method', method };
  const accessor = meta.accessors.get(name);
  if (accessor !== undefined) return { kind: 'accessor', accessor };
  throw new MethodNotFoundError(meta.clsId, name);
}

/** Loads through the gateway's own runtime (never the process-wide one). */
function load(runtime: Runtime, meta: ClassMeta, objectId: string, partitionId: number): Promise<OaasObject> {
  return runtime.load(meta.ctor as abstract new () => OaasObject, objectId, { partitionId });
}

/**
 * Loads the object a request names, which this process must own in cluster
 * mode (the server sends requests to the owner): a request that meets an
 * object moved away meanwhile is refused with `NotOwnerError`, before
 * anything ran, and routed again, rather than moving the object back here.
 */
async function loadHere(runtime: Runtime, meta: ClassMeta, objectId: string, partitionId: number): Promise<OaasObject> {
  const node = runtime.cluster;
  if (node !== undefined) {
    const key = { clsId: meta.clsId, partitionId, objectId };
    const route = await node.route(key, true);
    if (route.kind === 'remote') throw new NotOwnerError(key, route.owner.url);
  }
  return load(runtime, meta, objectId, partitionId);
}

/** {@link loadHere}, or a fresh object under that id when none is stored (committed with the call). */
async function loadOrCreate(runtime: Runtime, meta: ClassMeta, objectId: string, partitionId: number): Promise<OaasObject> {
  try {
    return await loadHere(runtime, meta, objectId, partitionId);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    return runtime.create(meta.ctor as abstract new () => OaasObject, {}, { id: objectId, partitionId });
  }
}

/** Runs a member; what the application throws becomes an `ApplicationError` (type and message, no stack). */
async function callApp(run: () => unknown): Promise<unknown> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OaasError) throw error;
    throw new ApplicationError(errorName(error), errorMessage(error), { cause: error });
  }
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function findRecord(runtime: Runtime, id: string, partitionId: number): Promise<unknown> {
  return findIdempotentResult((ctor, recordId, options) => runtime.load(ctor, recordId, options), id, partitionId);
}

/** A value as JSON sees it (what the reply carries), so a replayed result equals the first reply. */
function toJsonValue(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function stateOf(target: OaasObject): ObjectState {
  return wireStateOf(coreOf(target));
}

function parseStateBody(body: unknown): { entries: Record<string, unknown>; version: number | undefined } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new InvalidArgumentError('body', 'expected { entries: { field: value } }');
  const { entries, version } = body as Record<string, unknown>;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) throw new InvalidArgumentError('entries', 'expected an object of field values');
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0)) {
    throw new InvalidArgumentError('version', 'expected a non-negative integer');
  }
  return { entries: entries as Record<string, unknown>, version: version };
}

function fromJsonValue(wire: unknown, entryKey: string): unknown {
  try {
    return decodeState(JSON.stringify(wire));
  } catch (error) {
    throw new InvalidArgumentError('entries', `${entryKey}: ${errorMessage(error)}`, { cause: error });
  }
}
