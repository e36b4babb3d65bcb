import type { Logger } from 'pino';
import { checkInterval, type ResolvedConfig } from '../config.js';
import { InvalidArgumentError } from '../errors.js';
import type { ObjectRef } from '../object/object-ref.js';
import type { CreateOptions, LoadOptions, OaasObject, ObjectFactory } from '../object/oaas-object.js';
import type { OaasStats, Telemetry } from '../observability/telemetry.js';
import { runScope, type ScopeOptions } from '../session/scope.js';
import type { CommitResult, Session } from '../session/session.js';
import type { Store } from '../stores/store.js';
import { assembleRuntime, type RuntimeParts } from './assemble.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import { checkWatch } from './events/watch-target.js';
import type { Unwatch, WatchListener, WatchOptions, WatchTarget } from './events/watch-types.js';
import { checkHealth } from './health.js';
import { storeView } from './open-store.js';
import type { Runtime } from './runtime.js';
import type { ReminderErrorListener } from './reminders/reminder-reports.js';
import type { TriggerErrorListener } from './triggers/trigger-delivery.js';
import type { CommitErrorListener, CommitSummary, HealthReport, ShutdownOptions } from './runtime-types.js';

let runtimeCounter = 0;

/**
 * The runtime: gives each async context its own session, commits pending
 * changes in the background, runs scopes and turns, and flushes everything
 * on shutdown. One is active per process (see `configureOaas`); the
 * top-level functions delegate to it. Exported as `AutoSessionManager`.
 *
 * This class is the table of contents: each member names what one part
 * offers (run state, pending work, session binding, object access,
 * explicit and background commits, commit reports, shutdown; see
 * `assembleRuntime`), and owns no state of its own.
 */
export class OaasRuntime implements Runtime, ObjectFactory {
  readonly id: number;
  readonly logger: Logger;
  /** Figures for getStats(), Prometheus and OpenTelemetry. */
  readonly telemetry: Telemetry;
  private readonly parts: RuntimeParts;

  constructor(
    private readonly config: ResolvedConfig,
    /** Settles when the previous runtime has shut down; the store opens after it. */
    previous?: Promise<unknown>,
  ) {
    this.id = runtimeCounter += 1;
    this.parts = assembleRuntime(config, previous, this.id);
    this.logger = this.parts.logger;
    this.telemetry = this.parts.telemetry;
    if (config.autoCommit) this.parts.scheduler.start();
    this.parts.wakes.start();
  }

  /** Resolves once the store is open; rejects with the reason it could not be. */
  async ready(): Promise<void> {
    await this.parts.store;
    // Cluster mode: joined, and holding this member's first share of the slots.
    await this.parts.cluster?.ready();
  }

  /** Cluster mode: this process as a member (routing, handovers); `undefined` otherwise. */
  get cluster(): ClusterNode | undefined {
    return this.parts.cluster;
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
    return !this.parts.run.isOpen;
  }

  /** The runtime's store, usable before it has finished opening. */
  get storeView(): Store {
    return storeView(this.config, this.parts.store);
  }

  idempotencyExpiry(): number | undefined {
    return this.parts.idempotencyExpiry();
  }

  // Sessions

  /** The session of the current async context for a partition, created and bound on first use. */
  getSession(partitionId?: number): Session {
    return this.parts.sessions.contextSession(partitionId);
  }

  /** Runs `fn` in a fresh session (one per HTTP request, job, message...). */
  runInSession<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.parts.sessions.runInSession(fn);
  }

  /** Runs `fn` with `session` as the current context's session (for adapters that own a session). */
  withSession<T>(session: Session, fn: () => T): T {
    return this.parts.sessions.withSession(session, fn);
  }

  /** A session bound to no context, committed by its owner (the legacy adapter). */
  openManualSession(partitionId?: number): Session {
    return this.parts.sessions.openManual(partitionId);
  }

  /** Commits a session and unbinds it from the current context, which gets a fresh one next time. */
  cleanupSession(session?: Session): Promise<CommitResult> {
    return this.parts.commits.cleanupSession(session);
  }

  /** Runs `fn` as an atomic scope; see `sessionScope`. */
  sessionScope<T>(fn: (session: Session) => T | Promise<T>, options?: ScopeOptions): Promise<T> {
    return runScope(this.parts.scopes, fn, options);
  }

  // Objects

  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions | undefined): OaasObject {
    return this.parts.objects.create(ctor, init, options);
  }

  load(ctor: abstract new () => OaasObject, id: unknown, options: LoadOptions | undefined): Promise<OaasObject> {
    return this.parts.objects.load(ctor, id, options);
  }

  /** Loads the object a ref points to, with the class registered under its class id. */
  loadRef(ref: ObjectRef): Promise<unknown> {
    return this.parts.objects.loadRef(ref);
  }

  /** The ref of an object of a registered class, validating the id and partition. */
  refFor(cls: abstract new () => OaasObject, objId: unknown, partitionId?: number): ObjectRef {
    return this.parts.objects.refFor(cls, objId, partitionId);
  }

  /** Creates an object in the current context's session (the manual-API spelling of `Cls.create`); `local` is accepted for compatibility. */
  createObject<T extends OaasObject>(cls: abstract new () => T, objId?: string | number, local?: boolean, partitionId?: number): T {
    if (local !== undefined && typeof local !== 'boolean') throw new InvalidArgumentError('local', 'expected a boolean');
    return this.parts.objects.create(cls, undefined, { id: objId, partitionId }) as T;
  }

  /** Loads an object (the manual-API spelling of `Cls.load`). */
  async loadObject<T extends OaasObject>(cls: abstract new () => T, objId: string | number, partitionId?: number): Promise<T> {
    return (await this.parts.objects.load(cls, objId, { partitionId })) as T;
  }

  /** Marks an object for the next commit of the current session. */
  scheduleCommit(obj: OaasObject): void {
    this.parts.objects.scheduleCommit(obj);
  }

  // Change events

  /** Calls `listener` for every committed version of an object, or of every object of a class; see `watch`. */
  watch(target: WatchTarget, listener: WatchListener, options?: WatchOptions): Unwatch {
    this.parts.run.assertNotClosed();
    return this.parts.events.watch(checkWatch(target, listener, options, this.config.defaultPartition));
  }

  // Commits

  /** Commits the pending changes of these objects now, in one transaction (waiting for turns other contexts hold). */
  commitObjects(objects: readonly OaasObject[]): Promise<CommitResult> {
    return this.parts.commits.commitObjects(objects);
  }

  /** Commits every session with pending changes; continues past failures and rejects with `CommitError` if any failed. */
  commitAll(): Promise<CommitSummary> {
    return this.parts.commits.commitAll();
  }

  /** Same as {@link commitAll}; kept under this name for code migrated from the manual session API. */
  commitAllAsync(): Promise<CommitSummary> {
    return this.parts.commits.commitAll();
  }

  /** Subscribes to failed commits, background and explicit; returns the unsubscribe function. */
  onCommitError(listener: CommitErrorListener): () => void {
    return this.parts.reports.add(listener);
  }

  /** Subscribes to failed reminder firings (each is retried or given up; see docs/reminders.md); returns the unsubscribe function. */
  onReminderError(listener: ReminderErrorListener): () => void {
    return this.parts.reminderReports.add(listener);
  }

  /** Subscribes to failed trigger deliveries (each is retried or given up; see docs/triggers.md); returns the unsubscribe function. */
  onTriggerError(listener: TriggerErrorListener): () => void {
    return this.parts.triggerReports.add(listener);
  }

  /** Resolves when the background commit in progress, if any, is done. */
  async settled(): Promise<void> {
    await this.parts.scheduler.idle();
    await this.parts.pipeline.drain();
  }

  // Auto-commit switches

  enableAutoCommit(): void {
    this.parts.run.assertNotClosed();
    if (!this.parts.scheduler.enabled) this.parts.scheduler.start();
  }

  disableAutoCommit(): void {
    this.parts.run.assertNotClosed();
    this.parts.scheduler.stop();
  }

  /** Validates and applies a new interval; a running timer restarts with it. */
  setAutoCommitInterval(ms: number): void {
    this.parts.run.assertNotClosed();
    const interval = checkInterval(ms, 'ms', (field, message) => new InvalidArgumentError(field, message));
    if (interval === undefined) throw new InvalidArgumentError('ms', 'expected a number of milliseconds > 0');
    this.parts.scheduler.setInterval(interval);
  }

  get autoCommitEnabled(): boolean {
    return this.parts.scheduler.enabled;
  }

  /**
   * Stops the timer, waits for running calls and scopes, flushes every
   * session (retrying transient failures until the deadline), and closes the
   * store. Idempotent. Rejects with `CommitError` listing what is not persisted.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.parts.ending.shutdown(options);
  }

  // Introspection

  /** Watches registered (`watch`, event streams) and not yet stopped. */
  get watchCount(): number {
    return this.parts.events.count;
  }

  /** Objects waiting for a commit. */
  get pendingObjectCount(): number {
    return this.parts.pending.objectCount;
  }

  /** Live objects this process holds (an upper bound: released objects leave on collection). */
  get liveObjectCount(): number {
    return this.parts.identity.size;
  }

  /** Sessions holding pending changes. */
  get pendingSessionCount(): number {
    return this.parts.pending.sessionCount;
  }

  /** Age of the oldest change waiting for a commit, in ms (0 when nothing waits). */
  oldestPendingAgeMs(): number {
    return this.parts.pending.oldestAgeMs();
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
  healthCheck(): Promise<HealthReport> {
    const cluster = this.parts.cluster;
    return checkHealth(this.parts.store, this.storeView.name, this.parts.run.isOpen, this.parts.pending, this.parts.identity.size, cluster === undefined ? undefined : () => cluster.stats());
  }
}
