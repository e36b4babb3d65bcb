import type { Runtime } from '../runtime/runtime.js';
import { InvalidArgumentError, ObjectNotFoundError } from '../errors.js';
import { remoteInvoke } from './legacy-transport.js';
import { dispatchLocal } from '../invocation/dispatcher.js';
import type { InvocationRequest, InvocationResponse } from '../protocol/wire.js';
import type { OaasObject } from '../object/oaas-object.js';
import type { ObjectRef } from '../object/object-ref.js';
import type { ClassMeta } from '../registry/class-meta.js';
import { findClassMetaById, registeredClasses } from '../registry/registry.js';
import type { CommitResult, Session } from '../session/session.js';
import type { Store } from '../stores/store.js';
import { classOf, type ClsMeta } from './cls-meta.js';

/** Runs invocation requests (in this process until a remote transport is configured). */
export interface RpcManager {
  invoke(request: InvocationRequest): Promise<InvocationResponse>;
}

/** Reads the class registry. */
export interface MetaRepo {
  get(clsId: string): ClassMeta | undefined;
  all(): readonly ClassMeta[];
}

function refKey(obj: OaasObject): string {
  return obj.asRef().toString();
}

/**
 * The manual session API, kept so older code migrates without rewrites:
 * `newSession()`, create or load objects through it, then `commit()`.
 * Each adapter is its own unit of work: its `commit()` writes, atomically,
 * everything created, changed or deleted through it; two adapters never
 * share pending changes. Auto-commit (when enabled) also commits it.
 */
export class LegacySessionAdapter {
  private readonly local = new Map<string, OaasObject>();
  private readonly remote = new Map<string, ObjectRef>();
  private readonly deletes = new Set<string>();
  private readonly session: Session;
  readonly rpcManager: RpcManager;
  readonly metaRepo: MetaRepo;
  /** True while invocations run in this process (no remote `url` configured). */
  get localOnly(): boolean {
    return this.runtime.remote === undefined;
  }

  constructor(
    private readonly runtime: Runtime,
    partitionId?: number,
  ) {
    this.session = runtime.openManualSession(partitionId);
    this.rpcManager = { invoke: (request) => this.invoke(request) };
    this.metaRepo = { get: (clsId) => findClassMetaById(clsId), all: () => registeredClasses() };
  }

  get partitionId(): number {
    return this.session.partitionId;
  }

  /** Objects created or loaded through this adapter, by `cls/partition/id`. */
  get localObjDict(): ReadonlyMap<string, OaasObject> {
    return this.local;
  }

  /** Objects this adapter refers to in another process (none until a remote transport is configured). */
  get remoteObjDict(): ReadonlyMap<string, ObjectRef> {
    return this.remote;
  }

  /** `cls/partition/id` of objects deleted through this adapter and not yet committed. */
  get deleteObjSet(): ReadonlySet<string> {
    return this.deletes;
  }

  /** The runtime's store. */
  get dataManager(): Store {
    return this.runtime.storeView;
  }

  /** Creates an object in this adapter's session. `local` is accepted for compatibility; objects are in-process. */
  createObject<T extends OaasObject>(cls: (abstract new () => T) | ClsMeta, objId?: string | number, local?: boolean): T {
    if (local !== undefined && typeof local !== 'boolean') throw new InvalidArgumentError('local', 'expected a boolean');
    const ctor = classOf(cls) as abstract new () => T;
    const obj = this.runtime.withSession(this.session, () =>
      this.runtime.create(ctor, undefined, { id: objId, partitionId: this.partitionId }),
    ) as T;
    this.local.set(refKey(obj), obj);
    return obj;
  }

  /** Loads an object into this adapter's session. */
  async loadObject<T extends OaasObject>(cls: (abstract new () => T) | ClsMeta, objId: string | number): Promise<T> {
    const ctor = classOf(cls) as abstract new () => T;
    const obj = (await this.runtime.withSession(this.session, () =>
      this.runtime.load(ctor, objId, { partitionId: this.partitionId }),
    )) as T;
    this.local.set(refKey(obj), obj);
    return obj;
  }

  /** Deletes an object at this adapter's next commit (a missing object is ignored). */
  deleteObject(cls: (abstract new () => OaasObject) | ClsMeta, objId: string | number, partitionId?: number): void {
    const ctor = classOf(cls);
    const probe = this.runtime.refFor(ctor, objId, partitionId ?? this.partitionId);
    this.deletes.add(probe.toString());
  }

  /** Commits everything created, changed or deleted through this adapter, atomically. */
  async commit(): Promise<CommitResult> {
    for (const key of [...this.deletes]) {
      const [clsId, partition, objectId] = splitKey(key);
      const meta = findClassMetaById(clsId);
      if (meta === undefined) continue;
      try {
        const obj = await this.runtime.withSession(this.session, () =>
          this.runtime.load(meta.ctor as abstract new () => OaasObject, objectId, { partitionId: partition }),
        );
        await this.runtime.withSession(this.session, () => obj.delete());
        this.local.delete(key);
      } catch (error) {
        if (!(error instanceof ObjectNotFoundError)) throw error;
      }
      this.deletes.delete(key);
    }
    return this.session.commit();
  }

  /** Same as {@link commit}, under the name older code used. */
  commitAsync(): Promise<CommitResult> {
    return this.commit();
  }

  /** Invokes a method on an object. */
  objRpc(request: InvocationRequest): Promise<InvocationResponse> {
    return this.invoke(request);
  }

  objRpcAsync(request: InvocationRequest): Promise<InvocationResponse> {
    return this.invoke(request);
  }

  /** Invokes a stateless method. */
  fnRpc(request: InvocationRequest): Promise<InvocationResponse> {
    return this.invoke(request);
  }

  fnRpcAsync(request: InvocationRequest): Promise<InvocationResponse> {
    return this.invoke(request);
  }

  /** Runs a request through the configured remote server, or in this process when there is none. */
  private invoke(request: InvocationRequest): Promise<InvocationResponse> {
    const remote = this.runtime.remote;
    return remote === undefined ? this.invokeLocal(request) : remoteInvoke(remote, request);
  }

  /** Runs a request in this process, in this adapter's session. */
  invokeLocal(request: InvocationRequest): Promise<InvocationResponse> {
    return this.runtime.withSession(this.session, () => dispatchLocal(this.runtime, request));
  }

  invokeLocalAsync(request: InvocationRequest): Promise<InvocationResponse> {
    return this.invokeLocal(request);
  }
}

function splitKey(key: string): [string, number, string] {
  const first = key.indexOf('/');
  const second = key.indexOf('/', first + 1);
  return [key.slice(0, first), Number(key.slice(first + 1, second)), key.slice(second + 1)];
}
