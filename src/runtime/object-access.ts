import { AlreadyExistsError, ClassNotFoundError, ConflictError, InvalidArgumentError, ObjectBusyError, ObjectNotFoundError, OwnedElsewhereError, PendingChangesError, formatIdentity, type ObjectIdentity } from '../errors.js';
import { generateObjectId, normalizeObjectId, normalizePartitionId } from '../identity.js';
import type { ObjectCore, ObjectHost } from '../object/object-core.js';
import { ObjectRef } from '../object/object-ref.js';
import { coreOf, type CreateOptions, type LoadOptions, type OaasObject, type ObjectFactory } from '../object/oaas-object.js';
import type { EntryKeyRule } from '../object/state-fields.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { findClassMetaById } from '../registry/registry.js';
import { requireClassMeta } from '../registry/require-class.js';
import { boundSlot, currentChain, currentSlot, currentState } from '../session/async-context.js';
import { chainHolds, frameFor, innermostScope, type ChainLink } from '../session/call-chain.js';
import type { CommitPipeline } from '../session/commit-pipeline.js';
import type { IdentityMap } from '../session/identity-map.js';
import { ObjectRepository } from '../session/object-repository.js';
import { forgetEverywhere, type ManagedSession } from '../session/session.js';
import { invokeMethod, runAccessor, takeTurn, type TurnHost } from '../session/turn.js';
import type { ObjectKey, Store } from '../stores/store.js';
import { isPlainRecord } from './pending-report.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import { PeerUnreachable, traceparent, type PeerClient } from './cluster/peer-client.js';
import { adoptWireState as adoptState, wireStateOf as stateOfLive } from '../object/wire-state.js';
import { encodeArgs } from '../registry/encode-arguments.js';
import type { RunState } from './run-state.js';
import { recordCall, recordDeletion } from './triggers/record-events.js';
import type { SessionBinding } from './session-binding.js';

/** What object access works with. */
export interface ObjectAccessParts {
  readonly identity: IdentityMap;
  readonly store: () => Promise<Store>;
  readonly pipeline: CommitPipeline;
  readonly sessions: SessionBinding;
  readonly run: RunState;
  readonly turns: TurnHost;
  readonly defaultPartition: number;
  /** The time reminders count from; throws when the store cannot keep them. */
  readonly reminderClock: () => number;
  /** How the store keeps entry keys, when not as given (ODGM lowercases them). */
  readonly entryKeys?: EntryKeyRule | undefined;
  /** Cluster mode only: who owns what, and how to reach the owners. */
  readonly cluster?:
    | {
        readonly node: ClusterNode;
        readonly peers: PeerClient;
        /** Reports a creation the owner refused or that could not be sent. */
        report(error: Error, ref: ObjectIdentity): void;
      }
    | undefined;
}

/**
 * How application code reaches objects: creating and loading them, refs,
 * and the hooks every live object calls (writes, calls, deletes, refresh,
 * checkpoint), each routed to its turn, its rollback record and the
 * current context's session.
 */
export class ObjectAccess implements ObjectHost, ObjectFactory {
  private readonly repository: ObjectRepository;
  /** Cluster mode: creations sent to the owner, which the instance's calls wait for. */
  private readonly creations = new WeakMap<ObjectCore, Promise<void>>();
  /** Commits the events of failed calls (which no rollback may undo), in the background like any session. */
  private failures: ManagedSession | undefined;

  constructor(private readonly parts: ObjectAccessParts) {
    this.repository = new ObjectRepository(this, parts.store, parts.identity, parts.entryKeys);
  }

  private metaOf(ctor: unknown): ClassMeta {
    return requireClassMeta(ctor);
  }

  private partitionOf(partitionId: unknown, argument: string): number {
    if (partitionId !== undefined) return normalizePartitionId(partitionId, argument);
    return boundSlot()?.primaryPartition ?? this.parts.defaultPartition;
  }

  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions | undefined): OaasObject {
    const chain = currentChain();
    this.parts.run.assertAcceptingWork(chain);
    const meta = this.metaOf(ctor);
    if (init !== undefined && !isPlainRecord(init)) throw new InvalidArgumentError('init', 'expected a plain object of initial field values');
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentError('options', 'expected an object');
    const partitionId = this.partitionOf(options?.partitionId, 'partitionId');
    const node = this.parts.cluster?.node;
    const objectId =
      options?.id !== undefined
        ? normalizeObjectId(options.id)
        : node === undefined
          ? generateObjectId()
          : node.localId(generateObjectId, (id) => ({ clsId: meta.clsId, partitionId, objectId: id }));
    const key: ObjectKey = { clsId: meta.clsId, partitionId, objectId };
    const core = this.repository.create(meta, key, init, (prop) => {
      throw new InvalidArgumentError('init', `${prop} is not a state field of ${meta.clsId}`);
    });
    // Another process owns the slot: outside a scope the object is created there (a scope's commit moves the slot here instead).
    if (node !== undefined && innermostScope(chain) === undefined && node.ownerOf(key) !== undefined) return this.createRemote(core);
    const scope = innermostScope(chain);
    if (scope !== undefined) scope.holdNow(core, chain).created = true;
    this.repository.register(core);
    const session = this.parts.sessions.contextSession();
    session.track(core);
    if (session.kind === 'manual') session.watch(core);
    return core.proxy as OaasObject;
  }

  async load(ctor: abstract new () => OaasObject, id: unknown, options: LoadOptions | undefined): Promise<OaasObject> {
    const chain = currentChain();
    this.parts.run.assertAcceptingWork(chain);
    const meta = this.metaOf(ctor);
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentError('options', 'expected an object');
    const key: ObjectKey = { clsId: meta.clsId, partitionId: this.partitionOf(options?.partitionId, 'partitionId'), objectId: normalizeObjectId(id) };
    // Bind this context's session before the first await, so the caller's later writes land in it.
    const session = this.parts.sessions.contextSession();
    const scope = innermostScope(chain);
    let core: ObjectCore;
    if (this.parts.cluster === undefined) core = await this.repository.resolve(meta, key);
    else {
      const found = await this.clusteredResolve(meta, key, scope !== undefined);
      if (found.remote) return found.proxy as OaasObject;
      core = found;
    }
    if (options?.fresh === true && !core.hasPendingChanges && core.lifecycle === 'stored') await this.refresh(core, false);
    if (session.kind === 'manual') session.watch(core);
    if (scope !== undefined) await scope.hold(core, chain);
    if (core.unusable) throw new ObjectNotFoundError(key);
    return core.proxy as OaasObject;
  }

  // Cluster mode: instances of objects another process owns.

  /**
   * The live instance when this process owns the object (a scope moves it
   * here first), else a forwarding instance. A slot handed over while the
   * store was read leaves a live instance in a slot that is not this
   * process's: it is dropped and the object routed again.
   */
  private async clusteredResolve(meta: ClassMeta, key: ObjectKey, inScope: boolean): Promise<ObjectCore> {
    const { node } = this.parts.cluster!;
    for (let attempt = 1; ; attempt++) {
      if (inScope) await node.pull(key);
      else {
        const remote = await this.remoteLoad(meta, key);
        if (remote !== undefined) return remote;
      }
      const core = await this.repository.resolve(meta, key);
      // A handover that began while the store was read did not see this instance: calls outside a scope would run here and be
      // dropped with it, so they wait for the handover and go round again (a scope's commit is fenced instead, and runs again).
      if ((inScope ? node.owns(core) : node.keeps(core)) || attempt >= 3) return core;
      if (!core.locked && !core.hasPendingChanges) this.evict([core], undefined);
    }
  }

  /**
   * A creation in a slot another process owns: a forwarding instance now,
   * the creation sent to the owner behind it. Like a local creation it is
   * acknowledged before it is stored; the instance's calls wait for it, and
   * reject with its error if it failed (an `AlreadyExistsError`, say), which
   * is also reported to `onCommitError`.
   */
  private createRemote(core: ObjectCore): OaasObject {
    core.markRemote();
    const { node, peers } = this.parts.cluster!;
    const state = stateOfLive(core);
    const created = node
      .routed(
        core.key,
        false,
        () => {
          // The slot became this process's meanwhile: create the live object here.
          const init = Object.fromEntries(core.fields.props.map((prop) => [prop, core.target[prop]]));
          this.create(core.meta.ctor as abstract new () => OaasObject, init, { id: core.key.objectId, partitionId: core.key.partitionId });
          return Promise.resolve();
        },
        async (owner) => {
          const stored = await peers.create(owner, core.key, state);
          if (stored instanceof PeerUnreachable) return stored;
          adoptState(core, stored);
          return undefined;
        },
      )
      .catch((error: unknown) => {
        const failure = error instanceof ConflictError ? new AlreadyExistsError([core.key], { cause: error }) : (error as Error);
        this.parts.cluster!.report(failure, core.key);
        throw failure;
      });
    created.catch(() => undefined);
    this.creations.set(core, created);
    return core.proxy as OaasObject;
  }

  /** Resolves when the creations sent to owners for these instances are stored; rejects with the first failure. */
  async remoteCreations(cores: readonly ObjectCore[]): Promise<void> {
    for (const core of cores) await this.creations.get(core);
  }

  /** A forwarding instance when another process owns the object, `undefined` when it is this one's. */
  private remoteLoad(meta: ClassMeta, key: ObjectKey): Promise<ObjectCore | undefined> {
    const { node, peers } = this.parts.cluster!;
    return node.routed(
      key,
      false,
      () => Promise.resolve(undefined),
      async (owner) => {
        const state = await peers.state(owner, key);
        if (state instanceof PeerUnreachable) return state;
        const core = this.repository.instantiate(meta, key, 'stored');
        adoptState(core, state);
        core.markRemote();
        return core;
      },
    );
  }

  /** Runs a member of a forwarding instance on the object's owner, or here if the object has become this process's. */
  private async forward(core: ObjectCore, name: string, args: unknown[], local: (live: ObjectCore) => Promise<unknown>): Promise<unknown> {
    const { node, peers } = this.parts.cluster!;
    // Held by this chain (a scope took it live, or a turn runs on it), then moved away under it: the call
    // must not run on the new owner, outside the holder's rollback; the holder fails instead.
    if (chainHolds(currentChain(), core)) throw node.movedAway([core]);
    await this.creations.get(core);
    const body = encodeArgs(core.meta, name, args) ?? '';
    return node.routed(
      core.key,
      false,
      async () => local(await this.repository.resolve(core.meta, core.key)),
      async (owner) => {
        const reply = await peers.invoke(owner, core.key, name, body, traceparent());
        if (reply instanceof PeerUnreachable) return reply;
        adoptState(core, reply.state);
        return reply.value;
      },
    );
  }

  /** A forwarded call that met an instance whose slot moved away while it waited for its turn. */
  forwardMoved(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> {
    return this.forward(core, method.name, args, (live) => invokeMethod(this.parts.turns, live, method, args) as Promise<unknown>);
  }

  private ownerOf(core: ObjectCore): { id: string; url: string } {
    return this.parts.cluster?.node.ownerOf(core.key) ?? { id: 'another process', url: 'unknown' };
  }

  /** Loads the object a ref points to, with the class registered under its class id. */
  loadRef(ref: ObjectRef): Promise<unknown> {
    const meta = findClassMetaById(ref.clsId);
    if (meta === undefined) return Promise.reject(new ClassNotFoundError(ref.clsId, { message: `class ${ref.clsId} is not registered in this process` }));
    return this.load(meta.ctor as abstract new () => OaasObject, ref.objectId, { partitionId: ref.partitionId });
  }

  /** The ref of an object of a registered class, validating the id and partition. */
  refFor(cls: abstract new () => OaasObject, objId: unknown, partitionId?: number): ObjectRef {
    const meta = this.metaOf(cls);
    return new ObjectRef(meta.clsId, this.partitionOf(partitionId, 'partitionId'), normalizeObjectId(objId));
  }

  /** Marks every field of an object for the next commit of the current session. */
  scheduleCommit(obj: OaasObject): void {
    const core = coreOf(obj);
    this.parts.run.assertNotClosed();
    core.assertUsable();
    for (const prop of core.fields.props) core.markDirty(prop);
    this.parts.sessions.contextSession().track(core);
  }

  // ObjectHost: every write, call and delete of a live object comes here.

  reminderClock(): number {
    return this.parts.reminderClock();
  }

  /** A call on an object with triggers ended: records its event (see `recordCall`). */
  callEnded(core: ObjectCore, method: MethodMeta, parent: ChainLink | undefined, ok: boolean, error: unknown): void {
    recordCall(core, method, parent, ok, error, () => this.parts.sessions.contextSession(), () => this.failuresSession(core));
  }

  private failuresSession(core: ObjectCore): ManagedSession {
    return (this.failures ??= this.parts.sessions.openManual(core.key.partitionId));
  }

  /** The id of a deleted object's outbox record: generated, and in cluster mode in a slot this process owns, so the deleting commit may write it. */
  private outboxRecordId(core: ObjectCore): string {
    const node = this.parts.cluster?.node;
    if (node === undefined) return generateObjectId();
    return node.localId(generateObjectId, (objectId) => ({ clsId: 'oaas.Outbox', partitionId: core.key.partitionId, objectId }));
  }

  beforeWrite(core: ObjectCore, prop: string): void {
    this.parts.run.assertNotClosed();
    const state = currentState();
    const chain = state?.chain;
    if (core.remote) {
      if (chainHolds(chain, core)) throw this.parts.cluster!.node.movedAway([core]);
      throw new OwnedElsewhereError(core.key, this.ownerOf(core), `assigning ${prop} of`);
    }
    // A write cannot wait for a turn, so writing an object another context holds fails instead of interleaving.
    // (The common write, in the call that holds the object alone, is the first check.)
    if (!(chain !== undefined && core.heldAlone(chain.holder)) && core.locked && !chainHolds(chain, core)) throw new ObjectBusyError(core.key);
    innermostScope(chain)?.holdNow(core, chain);
    frameFor(chain, core)?.record(prop);
    this.parts.sessions.sessionIn(state?.slot ?? currentSlot()).track(core);
  }

  invoke(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncGenerator<unknown> {
    // The one-process path stays as it was: a @method call is the hot path.
    if (this.parts.cluster === undefined) return invokeMethod(this.parts.turns, core, method, args);
    const node = this.parts.cluster.node;
    // After a pause longer than the lease the slot may be another's: learn it before running the call here.
    if (node.leaseLapsed && !method.stateless && !method.streaming && !chainHolds(currentChain(), core)) {
      return node.renew().then(() => this.invokeHere(core, method, args) as Promise<unknown>);
    }
    return this.invokeHere(core, method, args);
  }

  /** A call on the instance as it stands: forwarded when the object is another process's, else a turn here. */
  private invokeHere(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncGenerator<unknown> {
    if (core.remote && !method.stateless) {
      if (method.streaming) return refusedStream(new OwnedElsewhereError(core.key, this.ownerOf(core), `streaming ${method.name} in this process from`));
      return this.forwardMoved(core, method, args);
    }
    return invokeMethod(this.parts.turns, core, method, args);
  }

  access(core: ObjectCore, accessor: AccessorMeta, args: unknown[]): Promise<unknown> {
    if (core.remote) return this.forward(core, accessor.name, args, (live) => runAccessor(this.parts.turns, live, accessor, args));
    return runAccessor(this.parts.turns, core, accessor, args);
  }

  async deleteObject(core: ObjectCore): Promise<void> {
    const chain = currentChain();
    this.parts.run.assertAcceptingWork(chain);
    core.assertUsable();
    if (core.remote) {
      const { node, peers } = this.parts.cluster!;
      await this.creations.get(core);
      await node.routed(
        core.key,
        false,
        async () => this.deleteObject(await this.repository.resolve(core.meta, core.key)),
        (owner) => peers.delete(owner, core.key),
      );
      core.markGone();
      return;
    }
    const turn = await takeTurn(this.parts.turns, core, chain);
    try {
      core.assertUsable();
      frameFor(chain, core)?.recordDelete();
      core.markDeleted();
      this.parts.sessions.contextSession().track(core);
      if (core.triggers !== undefined || core.outbox !== undefined) recordDeletion(core, (ctor, init, options) => this.create(ctor, init, options), this.outboxRecordId(core));
    } finally {
      if (turn.owned) core.releaseLock(turn.holder);
    }
  }

  /** Re-reads an object from the store under its turn; see `OaasObject.refresh`. */
  async refresh(core: ObjectCore, strict = true): Promise<void> {
    const chain = currentChain();
    this.parts.run.assertAcceptingWork(chain);
    core.assertUsable();
    if (core.remote) {
      const { node, peers } = this.parts.cluster!;
      await this.creations.get(core);
      const state = await node.routed(
        core.key,
        false,
        async () => stateOfLive(await this.repository.resolve(core.meta, core.key)),
        (owner) => peers.state(owner, core.key),
      );
      adoptState(core, state);
      return;
    }
    const turn = await takeTurn(this.parts.turns, core, chain);
    try {
      if (core.hasPendingChanges) {
        if (strict) throw new PendingChangesError(core.key);
        return;
      }
      if (!(await this.repository.refresh(core))) throw new ObjectNotFoundError(core.key);
    } finally {
      if (turn.owned) core.releaseLock(turn.holder);
    }
  }

  async checkpoint(core: ObjectCore): Promise<void> {
    const chain = currentChain();
    let link = chain;
    while (link !== undefined && link.core !== core) link = link.parent;
    const frame = link?.frame;
    if (frame === undefined) throw new InvalidArgumentError('checkpoint', 'call checkpoint() inside a @method of the same object');
    // Inside a scope the scope's commit is the durable point; the checkpoint only moves the call's rollback point.
    if (innermostScope(chain) === undefined) {
      await this.parts.pipeline.commit({ sessionId: this.parts.sessions.contextSession().id, cores: [core], chain, wait: true });
    }
    frame.mergeIntoParent();
    frame.reset();
  }

  /**
   * Cluster mode: these objects now belong to another process. Each becomes
   * a forwarding instance (an application holding it keeps a working
   * reference); what it had pending is dropped and its sessions are told,
   * with `cause` as the reason they report. Returns the refs whose changes were dropped.
   */
  evict(cores: readonly ObjectCore[], cause: Error | undefined): ObjectIdentity[] {
    const dropped: ObjectIdentity[] = [];
    for (const core of cores) {
      if (core.hasPendingChanges) {
        dropped.push(core.key);
        for (const owner of core.owners) owner.discarded(core, core.version, core.version, cause);
        core.dropChanges();
        forgetEverywhere(core);
      }
      core.markRemote();
      this.parts.identity.remove(core);
    }
    return dropped;
  }

  /** Drops an object whose creation a scope rolls back. */
  discardCreated(core: ObjectCore): void {
    this.repository.discard(core);
  }

  /**
   * Replaces live objects with their stored state, dropping their pending
   * changes. Objects another context holds (or takes while the store is
   * read) are left alone: they will meet the conflict again at their own
   * commit. `chain` is the caller's, whose held objects may be reloaded;
   * `reporter` reports the dropped changes (other sessions are told).
   * Returns the objects reloaded.
   */
  async reloadObjects(refs: readonly ObjectIdentity[], chain: ChainLink | undefined, reporter: ManagedSession | 'all'): Promise<ObjectIdentity[]> {
    const reloaded: ObjectIdentity[] = [];
    const mayTake = (core: ObjectCore): boolean => !core.locked || chainHolds(chain, core);
    for (const ref of refs) {
      const core = this.repository.live(ref);
      if (core === undefined) continue;
      const outcome = await this.repository.reload(core, mayTake, reporter);
      if (outcome === 'busy') continue;
      reloaded.push(core.key);
      // Failed calls' events are no change a reload may drop: the failures happened, whatever the store holds now.
      if (outcome === 'reloaded' && core.keepFailuresPending()) this.failuresSession(core).track(core);
      const failed = core.pendingFailures?.length ?? 0;
      if (outcome === 'gone' && failed > 0) {
        this.parts.turns.logger.warn({ object: formatIdentity(core.key), events: failed }, 'events of failed calls dropped: another writer deleted their object');
      }
    }
    return reloaded;
  }
}

/** A stream whose first `next()` rejects with `error`. */
// eslint-disable-next-line require-yield
async function* refusedStream(error: Error): AsyncGenerator<unknown> {
  await Promise.reject(error);
}
