import { pino, type Logger } from 'pino';
import type { ResolvedClusterConfig, ResolvedConfig } from '../config.js';
import { slotOf } from '../cluster/slots.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { openMembership } from './cluster/open-membership.js';
import { PeerClient } from './cluster/peer-client.js';
import type { ConflictError, ObjectIdentity } from '../errors.js';
import { formatRef, toRef } from './pending-report.js';
import { Telemetry } from '../observability/telemetry.js';
import { CommitPipeline, type CommitFencing } from '../session/commit-pipeline.js';
import { IdentityMap } from '../session/identity-map.js';
import type { ScopeHost } from '../session/scope.js';
import type { SessionHost } from '../session/session.js';
import type { TurnHost } from '../session/turn.js';
import { entryKeyRuleOf } from '../stores/resolve-store.js';
import type { ObjectKey, Store } from '../stores/store.js';
import type { ObjectCore } from '../object/object-core.js';
import { AutoCommitScheduler } from './auto-commit-scheduler.js';
import { BackgroundCommits } from './background-commits.js';
import { CommitReports } from './commit-reports.js';
import { Commits } from './commits.js';
import { ObjectAccess } from './object-access.js';
import { openStore } from './open-store.js';
import { PendingWork } from './pending-work.js';
import { RunState } from './run-state.js';
import { SessionBinding } from './session-binding.js';
import { Shutdown } from './shutdown.js';
import { EventHub } from './events/event-hub.js';
import { ReminderFiring } from './reminders/reminder-firing.js';
import type { ReminderErrorEvent } from './reminders/reminder-reports.js';
import { WakeService } from './wake-service.js';
import { Listeners } from './listeners.js';
import { TriggerDelivery, type TriggerErrorEvent } from './triggers/trigger-delivery.js';
import { recordExpiry } from './idempotency.js';
import { runScope } from '../session/scope.js';

/** The parts of one runtime, each owning its state, wired to each other. */
export interface RuntimeParts {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly store: Promise<Store>;
  readonly identity: IdentityMap;
  readonly run: RunState;
  readonly pending: PendingWork;
  readonly reports: CommitReports;
  readonly pipeline: CommitPipeline;
  readonly sessions: SessionBinding;
  readonly objects: ObjectAccess;
  readonly scheduler: AutoCommitScheduler;
  readonly background: BackgroundCommits;
  readonly commits: Commits;
  readonly scopes: ScopeHost;
  readonly ending: Shutdown;
  /** Cluster mode only. */
  readonly cluster: ClusterNode | undefined;
  readonly events: EventHub;
  readonly wakes: WakeService;
  readonly reminderReports: Listeners<ReminderErrorEvent>;
  readonly triggerReports: Listeners<TriggerErrorEvent>;
  /** How long an idempotency record made now is kept, or `undefined`: for good. */
  readonly idempotencyExpiry: () => number | undefined;
}

/**
 * Builds a runtime's parts. The order is the order of dependence: each part
 * gets what it uses through its constructor; the few hooks that point back
 * up (a session's commit, the background tick) are closures over parts made
 * later in this function.
 */
export function assembleRuntime(config: ResolvedConfig, previous: Promise<unknown> | undefined, id: number): RuntimeParts {
  const logger = (config.logger ?? pino({ name: 'oaas', level: config.logLevel })).child({ runtime: id });
  const store = openStore(config, previous, logger);
  const identity = new IdentityMap();
  const run = new RunState();
  const { clock } = config;
  const pending = new PendingWork(config.maxPendingObjects, clock);
  const reports = new CommitReports(logger);
  // Set below; the hooks that read them run only after this function returns.
  const late: { commits?: Commits; background?: BackgroundCommits; cluster?: ClusterNode; objects?: ObjectAccess; wakes?: WakeService } = {};
  const sessionHost: SessionHost = {
    logger,
    commitSession: (session) => late.commits!.commitSession(session),
    objectPending: (core, isPending) => pending.objectPending(core, isPending),
    pendingChanged: (session, hasPending) => pending.sessionPending(session, hasPending),
    changesDiscarded: (session, conflict, cause) => late.commits!.changesDiscarded(session, conflict, cause),
  };
  const sessions = new SessionBinding(sessionHost, run, id, config.defaultPartition);
  const telemetry = new Telemetry({
    pendingObjects: () => pending.objectCount,
    oldestPendingAgeMs: () => pending.oldestAgeMs(),
    openSessions: () => sessions.liveCount,
    openScopes: () => run.scopeCount,
  });
  const fencing: CommitFencing | undefined =
    config.cluster === undefined
      ? undefined
      : {
          claim: (cores, move) => late.cluster!.claim(cores, move),
          fence: (cores) => late.cluster!.fence(cores),
          fenced: (error, cores) => {
            late.cluster!.fenced(error, cores);
          },
          movedAway: (cores) => late.cluster!.movedAway(cores),
        };
  const events = new EventHub(() => store, logger);
  telemetry.attachEvents(() => events.stats());
  const pipeline = new CommitPipeline(() => store, identity, () => config.lockTimeoutMs, telemetry, logger, fencing, events, {
    wake: (at) => {
      late.wakes!.wake(at);
    },
  });
  const turns: TurnHost = {
    telemetry,
    logger,
    lockTimeoutMs: config.lockTimeoutMs,
    assertAcceptingWork: (chain) => run.assertAcceptingWork(chain),
    admit: (chain) => pending.admit(chain),
    turnStarted: () => run.turnStarted(),
    turnEnded: () => run.turnEnded(),
    ...(config.cluster === undefined ? {} : { forward: (core, method, args) => late.objects!.forwardMoved(core, method, args) }),
    callEnded: (core, method, parent, ok, error) => {
      late.objects!.callEnded(core, method, parent, ok, error);
    },
  };
  const cluster = config.cluster === undefined ? undefined : buildCluster(config, config.cluster, store, identity, pipeline, logger, reports, () => late.objects!);
  late.cluster = cluster?.node;
  const storeName = config.store.kind === 'custom' ? config.store.store.name : config.store.kind;
  const reminderClock = (): number => {
    late.wakes!.assertSupported(storeName);
    return clock.now();
  };
  const objects = (late.objects = new ObjectAccess({
    identity,
    store: () => store,
    pipeline,
    sessions,
    run,
    turns,
    defaultPartition: config.defaultPartition,
    reminderClock,
    entryKeys: entryKeyRuleOf(config.store),
    cluster,
  }));
  if (cluster !== undefined) telemetry.attachCluster(() => cluster.node.stats());
  const scheduler = new AutoCommitScheduler(config.autoCommitIntervalMs, () => (run.isOpen ? late.background!.tick() : Promise.resolve()), clock);
  const background = (late.background = new BackgroundCommits({
    logger,
    telemetry,
    pipeline,
    reports,
    clock,
    isOpen: () => run.isOpen,
    pendingSessions: () => pending.sessions(),
    reloadObjects: (refs, session) => objects.reloadObjects(refs, undefined, session),
    interval: () => scheduler.interval,
  }));
  const commits = (late.commits = new Commits({
    pipeline,
    pending,
    sessions,
    run,
    reports,
    autoCommitOn: () => scheduler.enabled,
    committed: (session) => background.reset(session),
    ...(cluster === undefined ? {} : { remoteCreations: (cores: readonly ObjectCore[]) => objects.remoteCreations(cores) }),
  }));
  const scopes: ScopeHost = {
    telemetry,
    logger,
    defaultPartition: config.defaultPartition,
    lockTimeoutMs: config.lockTimeoutMs,
    assertAcceptingWork: (chain) => run.assertAcceptingWork(chain),
    openScopeSession: (partitionId) => sessions.open(partitionId, 'scope'),
    closeScopeSession: (session) => {
      sessions.closeScope(session);
    },
    commitScope: (session, cores, chain, isolation) => commits.commitScope(session, cores, chain, isolation),
    discardCreated: (core) => objects.discardCreated(core),
    refreshStale: async (error: ConflictError, chain, session) => {
      await objects.reloadObjects(
        error.conflicts.map((c) => c.ref),
        chain,
        session,
      );
    },
    scopeOpened: () => run.scopeOpened(),
    scopeClosed: () => run.scopeClosed(),
  };
  const reminderReports = new Listeners<ReminderErrorEvent>('onReminderError', logger);
  const triggerReports = new Listeners<TriggerErrorEvent>('onTriggerError', logger);
  const firing = new ReminderFiring({
    clock,
    logger,
    config: config.reminders,
    reports: reminderReports,
    scope: (fn, options) => runScope(scopes, fn, options),
    load: (ctor, id, options) => objects.load(ctor, id, options),
  });
  const delivery = new TriggerDelivery({
    clock,
    logger,
    config: config.reminders,
    reports: triggerReports,
    scope: (fn, options) => runScope(scopes, fn, options),
    runInSession: (fn) => sessions.runInSession(fn),
    load: (ctor, id, options) => objects.load(ctor, id, options),
    create: (ctor, init, options) => objects.create(ctor, init, options),
    idempotencyExpiry: () => idempotencyExpiry(),
  });
  const clusterNode = cluster?.node;
  const wakes = (late.wakes = new WakeService({
    store,
    clock,
    logger,
    config: config.reminders,
    firing,
    delivery,
    isOpen: () => run.isOpen,
    ...(clusterNode === undefined ? {} : { owns: (key: ObjectKey) => clusterNode.ownsKey(key) }),
  }));
  telemetry.attachWakes(
    () => wakes.stats(),
    () => wakes.triggerStats(),
  );
  function idempotencyExpiry(): number | undefined {
    return recordExpiry(config.idempotencyRetentionMs, wakes.indexed);
  }
  const ending = new Shutdown({ logger, telemetry, run, scheduler, pipeline, commits, pending, objects, identity, reports, store, clock, cluster: clusterNode, reminders: wakes });
  return { logger, telemetry, store, identity, run, pending, reports, pipeline, sessions, objects, scheduler, background, commits, scopes, ending, cluster: clusterNode, events, wakes, reminderReports, triggerReports, idempotencyExpiry };
}

/** Cluster mode: this process as a member, joining once the store is open, and its client for the other members. */
function buildCluster(
  config: ResolvedConfig,
  clusterConfig: ResolvedClusterConfig,
  store: Promise<Store>,
  identity: IdentityMap,
  pipeline: CommitPipeline,
  logger: Logger,
  reports: CommitReports,
  objects: () => ObjectAccess,
): { node: ClusterNode; peers: PeerClient; report(error: Error, ref: ObjectIdentity): void } {
  const peers = new PeerClient(clusterConfig.id, config.token, Math.max(30_000, 2 * clusterConfig.leaseMs + config.lockTimeoutMs));
  const node = new ClusterNode({
    config: clusterConfig,
    openMembership: async () => {
      await store;
      return openMembership(config.store);
    },
    peers,
    logger,
    lockTimeoutMs: config.lockTimeoutMs,
    liveIn: (slots) => [...identity.cores()].filter((core) => slots.has((core.slot ??= slotOf(core.key)))),
    flush: async (cores, holder) => {
      await pipeline.commit({ sessionId: 'handover', cores, chain: undefined, wait: false, holder, background: true });
    },
    evict: (cores, cause) => objects().evict(cores, cause),
  });
  const report = (error: Error, ref: ObjectIdentity): void => {
    const refs = [toRef(ref)];
    logger.error({ err: error, object: formatRef(ref) }, 'creating an object on its owner failed');
    reports.emit({ error, sessionId: '*', refs, willRetry: false, discarded: refs, source: 'background' });
  };
  return { node, peers, report };
}
