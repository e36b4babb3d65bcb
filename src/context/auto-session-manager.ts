import { pino, type Logger } from 'pino';
import { checkInterval, type ResolvedConfig } from '../config.js';
import {
  CommitError,
  InvalidArgumentError,
  ObjectBusyError,
  ObjectNotFoundError,
  PendingChangesError,
  RegistrationError,
  ShutdownError,
  type ConflictError,
  type ObjectIdentity,
} from '../errors.js';
import { invokeMethod, runAccessor, takeTurn } from '../invocation/turn.js';
import { generateObjectId, normalizeObjectId, normalizePartitionId } from '../object/ids.js';
import type { ObjectCore, ObjectHost } from '../object/object-core.js';
import { ObjectRef } from '../object/object-ref.js';
import { coreOf, type CreateOptions, type LoadOptions, type OaasObject, type ObjectFactory } from '../object/oaas-object.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { findClassMeta, findClassMetaById } from '../registry/registry.js';
import { chainHolds, frameFor, innermostScope, type ChainLink } from '../session/call-chain.js';
import { CommitPipeline } from '../session/commit-pipeline.js';
import { ObjectRepository } from '../session/object-repository.js';
import { runScope, type ScopeHost, type ScopeOptions } from '../session/scope.js';
import { ManagedSession, type CommitResult, type Session, type SessionHost, type SessionKind } from '../session/session.js';
import { createStore } from '../stores/resolve-store.js';
import type { Isolation, ObjectKey, Store } from '../stores/store.js';
import { Telemetry, type OaasStats } from '../observability/telemetry.js';
import { AutoCommitScheduler } from './auto-commit-scheduler.js';
import { BackgroundCommits } from './background-commits.js';
import { allTransient, isPlainRecord, pendingRefs, unpersistedOf } from './pending-report.js';
import type { CommitErrorListener, CommitSummary, HealthReport, ShutdownOptions } from './runtime-types.js';
import { chainContext, currentSlot, runWithSession, sessionContext } from './async-context.js';

type State = 'open' | 'closing' | 'closed';

const MAX_BACKOFF_MS = 30_000;
const EXIT_FLUSH_ATTEMPTS = 3;
let runtimeCounter = 0;

/**
 * The runtime: gives each async context its own session, commits pending
 * changes in the background, runs scopes and turns, and flushes everything
 * on shutdown. One is active per process (see `configureOaas`); the
 * top-level functions delegate to it.
 */
export class AutoSessionManager implements ObjectHost, ObjectFactory, SessionHost, ScopeHost {
  readonly id: number;
  readonly logger: Logger;
  private state: State = 'open';
  private readonly storeReady: Promise<Store>;
  private readonly objects: ObjectRepository;
  private readonly pendingSessions = new Set<ManagedSession>();
  private readonly pipeline: CommitPipeline;
  private readonly scheduler: AutoCommitScheduler;
  private readonly background: BackgroundCommits;
  /** Figures for getStats(), Prometheus and OpenTelemetry. */
  readonly telemetry: Telemetry;
  private liveSessions = 0;
  private readonly sessionFinalizer = new FinalizationRegistry<undefined>(() => {
    this.liveSessions -= 1;
  });
  private pendingObjects = 0;
  private admissionWaiters: (() => void)[] = [];
  private activeTurns = 0;
  private openScopes = 0;
  private idleWaiters: (() => void)[] = [];
  private shutdownPromise: Promise<void> | undefined;
  private exitFlushes = 0;
  private readonly onBeforeExit = (): void => {
    this.flushAtExit();
  };

  constructor(
    private readonly config: ResolvedConfig,
    /** Settles when the previous runtime has shut down; the store opens after it. */
    previous?: Promise<unknown>,
  ) {
    runtimeCounter += 1;
    this.id = runtimeCounter;
    this.logger = (config.logger ?? pino({ name: 'oaas', level: config.logLevel })).child({ runtime: this.id });
    const spec = config.store;
    this.storeReady = (previous ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        let store: Store;
        if (spec.kind === 'custom') {
          await spec.store.open();
          store = spec.store;
        } else {
          store = await createStore(spec, { poolSize: config.poolSize });
        }
        if (config.cache === undefined) return store;
        const { CachedStore } = await import('../stores/cache/cached-store.js');
        const { RedisCache } = await import('../stores/cache/redis-cache.js');
        const cached = new CachedStore(store, new RedisCache({ url: config.cache }), this.logger);
        // Opening again is idempotent for the store; it is the cache's driver that is checked here.
        await cached.open().catch(async (error: unknown) => {
          await store.close().catch(() => undefined);
          throw error;
        });
        return cached;
      });
    // Failures reach whoever awaits the store; this only keeps Node from calling them unhandled.
    this.storeReady.catch(() => undefined);
    this.telemetry = new Telemetry({
      pendingObjects: () => this.pendingObjects,
      oldestPendingAgeMs: () => this.oldestPendingAgeMs(),
      openSessions: () => this.liveSessions,
      openScopes: () => this.openScopes,
    });
    this.objects = new ObjectRepository(this, () => this.storeReady);
    this.pipeline = new CommitPipeline(() => this.storeReady, this.objects.identity, () => this.config.lockTimeoutMs, this.telemetry, this.logger);
    this.background = new BackgroundCommits({
      logger: this.logger,
      telemetry: this.telemetry,
      isOpen: () => this.state === 'open',
      pendingSessions: () => [...this.pendingSessions],
      commit: (session) =>
        this.pipeline.commit({ sessionId: session.id, cores: [...session.pending], chain: undefined, wait: false, background: true, logger: session.logger }),
      reloadObjects: (refs) => this.reloadObjects(refs),
      interval: () => this.scheduler.interval,
    });
    this.scheduler = new AutoCommitScheduler(config.autoCommitIntervalMs, () => (this.state === 'open' ? this.background.tick() : Promise.resolve()));
    if (config.autoCommit) this.scheduler.start();
    process.on('beforeExit', this.onBeforeExit);
  }

  /** Resolves once the store is open; rejects with the reason it could not be. */
  async ready(): Promise<void> {
    await this.storeReady;
  }

  /** The remote server the manual API invokes through, when configured. */
  get remote(): { readonly url: string; readonly token: string | undefined } | undefined {
    return this.config.url === undefined ? undefined : { url: this.config.url, token: this.config.token };
  }

  get defaultPartition(): number {
    return this.config.defaultPartition;
  }

  get lockTimeoutMs(): number {
    return this.config.lockTimeoutMs;
  }

  get isShutDown(): boolean {
    return this.state !== 'open';
  }

  // -------------------------------------------------------------------------
  // Sessions

  /** The session of the current async context for a partition, created and bound on first use. */
  getSession(partitionId?: number): Session {
    return this.contextSession(partitionId);
  }

  private contextSession(partitionId?: number): ManagedSession {
    this.assertNotClosed();
    const slot = currentSlot();
    const p = partitionId === undefined ? (slot.primaryPartition ?? this.config.defaultPartition) : normalizePartitionId(partitionId);
    let session = slot.sessions.get(p);
    if (session === undefined || session.runtimeId !== this.id || session.closed) {
      session = this.newSession(p, 'context');
      slot.sessions.set(p, session);
    }
    return session;
  }

  /** Runs `fn` in a fresh session (one per HTTP request, job, message...). */
  async runInSession<T>(fn: () => T | Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'runInSession expects a function');
    this.assertAcceptingWork(chainContext.getStore());
    const session = this.newSession(this.config.defaultPartition, 'context');
    return runWithSession(session, async () => fn());
  }

  /** Runs `fn` with `session` as the current context's session (for adapters that own a session). */
  withSession<T>(session: Session, fn: () => T): T {
    return runWithSession(this.ownSession(session), fn);
  }

  /** A session bound to no context, committed by its owner (the legacy adapter). */
  openManualSession(partitionId?: number): ManagedSession {
    this.assertNotClosed();
    const p = partitionId === undefined ? this.config.defaultPartition : normalizePartitionId(partitionId);
    return this.newSession(p, 'manual');
  }

  openScopeSession(partitionId: number): ManagedSession {
    return this.newSession(partitionId, 'scope');
  }

  objectPending(core: ObjectCore, pending: boolean): void {
    if (pending) {
      this.pendingObjects += 1;
      core.pendingSince = Date.now();
      return;
    }
    this.pendingObjects -= 1;
    core.pendingSince = undefined;
    if (this.pendingObjects < this.config.maxPendingObjects && this.admissionWaiters.length > 0) {
      for (const wake of this.admissionWaiters.splice(0)) wake();
    }
  }

  /**
   * Back-pressure: a new top-level call waits while more than
   * `maxPendingObjects` objects wait for a commit (the store is slow or
   * down), instead of letting memory grow without end. Calls made by running
   * work pass, so a turn never waits on itself.
   */
  admit(chain: ChainLink | undefined): Promise<void> | undefined {
    if (chain !== undefined || this.pendingObjects < this.config.maxPendingObjects) return undefined;
    return new Promise<void>((resolve) => this.admissionWaiters.push(resolve));
  }

  private newSession(partitionId: number, kind: SessionKind): ManagedSession {
    const session = new ManagedSession(this, partitionId, kind, this.id);
    this.liveSessions += 1;
    this.sessionFinalizer.register(session, undefined);
    return session;
  }

  pendingChanged(session: ManagedSession, hasPending: boolean): void {
    if (hasPending) this.pendingSessions.add(session);
    else this.pendingSessions.delete(session);
  }

  /** Commits a session and unbinds it from the current context, which gets a fresh one next time. */
  async cleanupSession(session?: Session): Promise<CommitResult> {
    const target = session === undefined ? this.contextSession() : this.ownSession(session);
    const result = await this.commitSession(target);
    const slot = sessionContext.getStore();
    if (slot?.sessions.get(target.partitionId) === target) slot.sessions.delete(target.partitionId);
    return result;
  }

  private ownSession(session: unknown): ManagedSession {
    if (!(session instanceof ManagedSession) || session.runtimeId !== this.id) {
      throw new InvalidArgumentError('session', 'not a session of the current runtime');
    }
    return session;
  }

  // -------------------------------------------------------------------------
  // Objects

  private metaOf(ctor: unknown): ClassMeta {
    const meta = findClassMeta(ctor);
    if (meta === undefined) {
      const name = typeof ctor === 'function' ? ctor.name : String(ctor);
      throw new RegistrationError(`${name} is not a registered service class; decorate it with @service`);
    }
    return meta;
  }

  private partitionOf(partitionId: unknown, argument: string): number {
    if (partitionId !== undefined) return normalizePartitionId(partitionId, argument);
    return sessionContext.getStore()?.primaryPartition ?? this.config.defaultPartition;
  }

  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions | undefined): OaasObject {
    const chain = chainContext.getStore();
    this.assertAcceptingWork(chain);
    const meta = this.metaOf(ctor);
    if (init !== undefined && !isPlainRecord(init)) {
      throw new InvalidArgumentError('init', 'expected a plain object of initial field values');
    }
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new InvalidArgumentError('options', 'expected an object');
    }
    const objectId = options?.id === undefined ? generateObjectId() : normalizeObjectId(options.id);
    const key: ObjectKey = { clsId: meta.clsId, partitionId: this.partitionOf(options?.partitionId, 'partitionId'), objectId };
    const core = this.objects.create(meta, key, init, (prop) => {
      throw new InvalidArgumentError('init', `${prop} is not a state field of ${meta.clsId}`);
    });
    const scope = innermostScope(chain);
    if (scope !== undefined) scope.holdNow(core, chain).created = true;
    this.objects.register(core);
    const session = this.contextSession();
    session.track(core);
    if (session.kind === 'manual') session.watched.add(core);
    return core.proxy as OaasObject;
  }

  async load(ctor: abstract new () => OaasObject, id: unknown, options: LoadOptions | undefined): Promise<OaasObject> {
    const chain = chainContext.getStore();
    this.assertAcceptingWork(chain);
    const meta = this.metaOf(ctor);
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new InvalidArgumentError('options', 'expected an object');
    }
    const key: ObjectKey = { clsId: meta.clsId, partitionId: this.partitionOf(options?.partitionId, 'partitionId'), objectId: normalizeObjectId(id) };
    // Bind this context's session before the first await, so the caller's later writes land in it.
    const session = this.contextSession();
    const core = await this.objects.resolve(meta, key);
    if (options?.fresh === true && !core.hasPendingChanges && core.lifecycle === 'stored') await this.refresh(core, false);
    if (session.kind === 'manual') session.watched.add(core);
    const scope = innermostScope(chain);
    if (scope !== undefined) await scope.hold(core, chain);
    if (core.unusable) throw new ObjectNotFoundError(key);
    return core.proxy as OaasObject;
  }

  /** Loads the object a ref points to, with the class registered under its class id. */
  loadRef(ref: ObjectRef): Promise<unknown> {
    const meta = findClassMetaById(ref.clsId);
    if (meta === undefined) return Promise.reject(new RegistrationError(`class ${ref.clsId} is not registered in this process`));
    return this.load(meta.ctor as abstract new () => OaasObject, ref.objectId, { partitionId: ref.partitionId });
  }

  /**
   * Creates an object in the current context's session (the manual-API
   * spelling of `Cls.create`). `local` is accepted for compatibility: objects
   * live in this process.
   */
  createObject<T extends OaasObject>(cls: abstract new () => T, objId?: string | number, local?: boolean, partitionId?: number): T {
    if (local !== undefined && typeof local !== 'boolean') throw new InvalidArgumentError('local', 'expected a boolean');
    return this.create(cls, undefined, { id: objId, partitionId }) as T;
  }

  /** Loads an object (the manual-API spelling of `Cls.load`). */
  async loadObject<T extends OaasObject>(cls: abstract new () => T, objId: string | number, partitionId?: number): Promise<T> {
    return (await this.load(cls, objId, { partitionId })) as T;
  }

  /** The ref of an object of a registered class, validating the id and partition. */
  refFor(cls: abstract new () => OaasObject, objId: unknown, partitionId?: number): ObjectRef {
    const meta = this.metaOf(cls);
    return new ObjectRef(meta.clsId, this.partitionOf(partitionId, 'partitionId'), normalizeObjectId(objId));
  }

  /** The runtime's store, usable before it has finished opening. */
  get storeView(): Store {
    const ready = (): Promise<Store> => this.storeReady;
    return {
      name: this.config.store.kind === 'custom' ? this.config.store.store.name : this.config.store.kind,
      open: async () => {
        await ready();
      },
      get: async (key) => (await ready()).get(key),
      getMany: async (keys) => (await ready()).getMany(keys),
      apply: async (ops, options) => (await ready()).apply(ops, options),
      list: async (clsId, partitionId, options) => (await ready()).list(clsId, partitionId, options),
      close: () => Promise.reject(new InvalidArgumentError('store', 'the runtime owns its store; call shutdown() instead')),
    };
  }

  /** Marks an object for the next commit of the current session. */
  scheduleCommit(obj: OaasObject): void {
    const core = coreOf(obj);
    this.assertNotClosed();
    core.assertUsable();
    for (const prop of core.fields.props) core.markDirty(prop);
    this.contextSession().track(core);
  }

  // -------------------------------------------------------------------------
  // ObjectHost: every write, call and delete of a live object comes here

  beforeWrite(core: ObjectCore, prop: string): void {
    this.assertNotClosed();
    const chain = chainContext.getStore();
    // A write cannot wait for a turn, so writing an object another context holds fails instead of interleaving.
    if (core.locked && !chainHolds(chain, core)) throw new ObjectBusyError(core.key);
    innermostScope(chain)?.holdNow(core, chain);
    frameFor(chain, core)?.record(prop);
    this.contextSession().track(core);
  }

  invoke(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncGenerator<unknown> {
    return invokeMethod(this, core, method, args);
  }

  access(core: ObjectCore, accessor: AccessorMeta, args: unknown[]): Promise<unknown> {
    return runAccessor(this, core, accessor, args);
  }

  async deleteObject(core: ObjectCore): Promise<void> {
    const chain = chainContext.getStore();
    this.assertAcceptingWork(chain);
    core.assertUsable();
    const turn = await takeTurn(this, core, chain);
    try {
      core.assertUsable();
      frameFor(chain, core)?.recordDelete();
      core.deleted = true;
      core.writeSeq += 1;
      this.contextSession().track(core);
    } finally {
      if (turn.owned) core.releaseLock(turn.holder);
    }
  }

  /** Re-reads an object from the store under its turn; see `OaasObject.refresh`. */
  async refresh(core: ObjectCore, strict = true): Promise<void> {
    const chain = chainContext.getStore();
    this.assertAcceptingWork(chain);
    core.assertUsable();
    const turn = await takeTurn(this, core, chain);
    try {
      if (core.hasPendingChanges) {
        if (strict) throw new PendingChangesError(core.key);
        return;
      }
      if (!(await this.objects.refresh(core))) throw new ObjectNotFoundError(core.key);
    } finally {
      if (turn.owned) core.releaseLock(turn.holder);
    }
  }

  async checkpoint(core: ObjectCore): Promise<void> {
    const chain = chainContext.getStore();
    let link = chain;
    while (link !== undefined && link.core !== core) link = link.parent;
    const frame = link?.frame;
    if (frame === undefined) throw new InvalidArgumentError('checkpoint', 'call checkpoint() inside a @method of the same object');
    // Inside a scope the scope's commit is the durable point; the checkpoint only moves the call's rollback point.
    if (innermostScope(chain) === undefined) {
      await this.pipeline.commit({ sessionId: this.contextSession().id, cores: [core], chain, wait: true });
    }
    frame.mergeIntoParent();
    frame.reset();
  }

  // -------------------------------------------------------------------------
  // Turns and scopes

  assertAcceptingWork(chain: ChainLink | undefined): void {
    // Calls made by work that is already running may finish during shutdown.
    if (this.state === 'closed' || (this.state === 'closing' && chain === undefined)) throw new ShutdownError();
  }

  private assertNotClosed(): void {
    if (this.state === 'closed') throw new ShutdownError();
  }

  turnStarted(): void {
    this.activeTurns += 1;
  }

  turnEnded(): void {
    this.activeTurns -= 1;
    this.notifyIdle();
  }

  scopeOpened(): void {
    this.openScopes += 1;
  }

  scopeClosed(): void {
    this.openScopes -= 1;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.activeTurns === 0 && this.openScopes === 0 && this.idleWaiters.length > 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Runs `fn` as an atomic scope; see `sessionScope`. */
  sessionScope<T>(fn: (session: Session) => T | Promise<T>, options?: ScopeOptions): Promise<T> {
    return runScope(this, fn, options);
  }

  async commitScope(session: ManagedSession, cores: readonly ObjectCore[], chain: ChainLink, isolation: Isolation | undefined): Promise<CommitResult> {
    return this.pipeline.commit({ sessionId: session.id, cores, chain, wait: true, isolation, logger: session.logger });
  }

  discardCreated(core: ObjectCore): void {
    this.objects.discard(core);
  }

  async refreshStale(error: ConflictError): Promise<void> {
    await this.reloadObjects(error.conflicts.map((c) => c.ref));
  }

  /**
   * Replaces live objects with their stored state, dropping their pending
   * changes. Objects another context holds are left alone (they will meet
   * the conflict again). Returns the objects reloaded.
   */
  private async reloadObjects(refs: readonly ObjectIdentity[]): Promise<ObjectIdentity[]> {
    const reloaded: ObjectIdentity[] = [];
    for (const ref of refs) {
      const core = this.objects.live(ref);
      if (core === undefined || (core.locked && !chainHolds(chainContext.getStore(), core))) continue;
      await this.objects.reload(core);
      reloaded.push(core.key);
    }
    return reloaded;
  }

  // -------------------------------------------------------------------------
  // Commits

  async commitSession(session: ManagedSession): Promise<CommitResult> {
    this.assertNotClosed();
    if (session.kind === 'scope' && !session.closed) {
      throw new InvalidArgumentError('session', 'a sessionScope commits when its function resolves; do not call commit() on its session');
    }
    const result = await this.pipeline.commit({
      sessionId: session.id,
      logger: session.logger,
      cores: session.candidates(),
      chain: chainContext.getStore(),
      wait: true,
    });
    session.failures = 0;
    session.retryAt = 0;
    return result;
  }

  /** Commits the pending changes of these objects now, in one transaction (waiting for turns other contexts hold). */
  async commitObjects(objects: readonly OaasObject[]): Promise<CommitResult> {
    this.assertNotClosed();
    const cores = objects.map((o) => coreOf(o));
    return this.pipeline.commit({ sessionId: this.contextSession().id, cores, chain: chainContext.getStore(), wait: true });
  }

  /** Commits every session with pending changes; continues past failures and rejects with `CommitError` if any failed. */
  async commitAll(): Promise<CommitSummary> {
    this.assertNotClosed();
    const sessions = [...this.pendingSessions];
    const results: CommitResult[] = [];
    const failures: { session: ManagedSession; error: unknown }[] = [];
    for (const session of sessions) {
      try {
        results.push(await this.commitSession(session));
      } catch (error) {
        // The commit itself logged the failure (or the lock wait that preceded it is in the CommitError).
        failures.push({ session, error });
      }
    }
    if (failures.length > 0) {
      const first = failures[0]!.error;
      throw new CommitError(
        `${failures.length} of ${sessions.length} sessions failed to commit; their changes are still pending: ${(first as Error).message}`,
        { unpersisted: failures.flatMap((f) => unpersistedOf(f.session)), failures: failures.map((f) => f.error) },
        { cause: first },
      );
    }
    return {
      sessions: sessions.length,
      committed: results.reduce((n, r) => n + r.committed.length, 0),
      failed: 0,
      results,
    };
  }

  /** Same as {@link commitAll}; kept under this name for code migrated from the manual session API. */
  commitAllAsync(): Promise<CommitSummary> {
    return this.commitAll();
  }

  /** Subscribes to background commit failures; returns the unsubscribe function. */
  onCommitError(listener: CommitErrorListener): () => void {
    return this.background.onCommitError(listener);
  }

  // -------------------------------------------------------------------------
  // Auto-commit switches

  enableAutoCommit(): void {
    this.assertNotClosed();
    if (!this.scheduler.enabled) this.scheduler.start();
  }

  disableAutoCommit(): void {
    this.assertNotClosed();
    this.scheduler.stop();
  }

  /** Validates and applies a new interval; a running timer restarts with it. */
  setAutoCommitInterval(ms: number): void {
    this.assertNotClosed();
    let interval: number | undefined;
    try {
      interval = checkInterval(ms, 'ms');
    } catch (error) {
      throw new InvalidArgumentError('ms', (error as Error).message, { cause: error });
    }
    if (interval === undefined) throw new InvalidArgumentError('ms', 'expected a number of milliseconds > 0');
    this.scheduler.setInterval(interval);
  }

  get autoCommitEnabled(): boolean {
    return this.scheduler.enabled;
  }

  // -------------------------------------------------------------------------
  // Shutdown

  /**
   * Stops the timer, waits for running calls and scopes, flushes every
   * session (retrying transient failures until the deadline), and closes the
   * store. Idempotent. Rejects with `CommitError` listing what is not persisted.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null) return Promise.reject(new InvalidArgumentError('options', 'expected an object'));
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      return Promise.reject(new InvalidArgumentError('timeoutMs', `expected a number >= 0, got ${String(timeoutMs)}`));
    }
    this.shutdownPromise ??= this.closeDown(timeoutMs);
    return this.shutdownPromise;
  }

  private async closeDown(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.state = 'closing';
    this.scheduler.stop();
    process.off('beforeExit', this.onBeforeExit);
    await this.waitForIdle(deadline);
    await this.scheduler.idle();
    let failure: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.commitAll();
        failure = undefined;
        break;
      } catch (error) {
        failure = error;
        const wait = Math.min(this.scheduler.interval * 2 ** (attempt - 1), MAX_BACKOFF_MS);
        if (!allTransient(error) || Date.now() + wait > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    await this.pipeline.drain();
    this.state = 'closed';
    try {
      const store = await this.storeReady;
      await store.close();
    } catch (error) {
      this.logger.warn({ err: error }, 'closing the store failed');
    }
    this.objects.identity.clear();
    this.telemetry.close();
    if (failure !== undefined) throw failure as Error;
  }

  private async waitForIdle(deadline: number): Promise<void> {
    if (this.activeTurns === 0 && this.openScopes === 0) return;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Natural exit: flush what is pending (the flush keeps the loop alive, so this runs again after it). */
  private flushAtExit(): void {
    if (this.state !== 'open' || this.pendingSessions.size === 0) return;
    if (this.exitFlushes >= EXIT_FLUSH_ATTEMPTS) return;
    this.exitFlushes += 1;
    this.commitAll().then(
      () => {
        this.exitFlushes = 0;
      },
      (error: unknown) => {
        this.logger.error({ err: error, attempt: this.exitFlushes }, 'flush at exit failed');
        if (this.exitFlushes >= EXIT_FLUSH_ATTEMPTS) {
          this.background.report({ error: error as Error, sessionId: '*', refs: [...this.pendingSessions].flatMap(pendingRefs), willRetry: false, discarded: [] });
        }
      },
    );
  }

  // -------------------------------------------------------------------------
  // Introspection

  /** Objects waiting for a commit. */
  get pendingObjectCount(): number {
    return this.pendingObjects;
  }

  /** Live objects this process holds (an upper bound: released objects leave on collection). */
  get liveObjectCount(): number {
    return this.objects.identity.size;
  }

  /** Sessions holding pending changes. */
  get pendingSessionCount(): number {
    return this.pendingSessions.size;
  }

  /** Age of the oldest change waiting for a commit, in ms (0 when nothing waits). Scans pending objects only. */
  oldestPendingAgeMs(): number {
    let oldest = Infinity;
    for (const session of this.pendingSessions) {
      for (const core of session.pending) if (core.pendingSince !== undefined && core.pendingSince < oldest) oldest = core.pendingSince;
    }
    return oldest === Infinity ? 0 : Date.now() - oldest;
  }

  /** The runtime's figures as a plain object; no OpenTelemetry set-up needed. */
  getStats(): OaasStats {
    return this.telemetry.stats();
  }

  /** The runtime's figures in the Prometheus text format (what `GET /metrics` serves). */
  metricsText(): Promise<string> {
    return this.telemetry.metricsText();
  }

  /** Checks the store and reports what waits for a commit; never rejects. */
  async healthCheck(): Promise<HealthReport> {
    const started = performance.now();
    let reachable = false;
    let error: string | undefined;
    let pool: HealthReport['store']['pool'];
    let name = this.storeView.name;
    try {
      const store = await this.storeReady;
      name = store.name;
      await store.get({ clsId: 'oaas.health', partitionId: 0, objectId: 'probe' });
      reachable = true;
      const stats = (store as Partial<{ poolStats(): { total: number; idle: number; waiting: number } }>).poolStats?.();
      if (stats !== undefined) pool = stats;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const latencyMs = performance.now() - started;
    return {
      ok: reachable && this.state === 'open',
      store: { name, reachable, latencyMs, pool, error },
      pendingObjects: this.pendingObjects,
      oldestPendingAgeMs: this.oldestPendingAgeMs(),
      pendingSessions: this.pendingSessions.size,
      liveObjects: this.objects.identity.size,
    };
  }

  /** Resolves when the background commit in progress, if any, is done. */
  async settled(): Promise<void> {
    await this.scheduler.idle();
    await this.pipeline.drain();
  }
}
