import type { Logger } from 'pino';
import type { Telemetry } from '../observability/telemetry.js';
import { inSpan, tracing } from '../observability/tracing.js';
import { AlreadyExistsError, ConflictError, FencedError, LockTimeoutError, OaasError, StoreError, formatIdentity, type ObjectIdentity } from '../errors.js';
import type { ObjectCore } from '../object/object-core.js';
import { changeOf, TRUSTED_BATCH, type ApplyOptions, type CommitFence, type Isolation, type Store, type StoreChange, type WriteOp } from '../stores/store.js';
import { chainHolds, type ChainLink } from './call-chain.js';
import { computeChange, ObjectPut, type ObjectChange } from './change-set.js';
import type { IdentityMap } from './identity-map.js';
import { inCreationOrder } from './creation-order.js';
import { SerialQueue } from './serial-queue.js';
import { forgetEverywhere, type CommitResult } from './session.js';
import { rejected } from '../promises.js';

const TRUSTED: ApplyOptions = Object.freeze({ [TRUSTED_BATCH]: true as const });
/** The holder of a commit that takes no turns: no object is ever held by it. */
const NO_HOLDER: object = Object.freeze({});
const NO_VERSIONS: readonly number[] = Object.freeze([]);
const NO_IDENTITIES: readonly ObjectIdentity[] = Object.freeze([]);

/** A commit's changes, worked out from its live objects before the store is called. */
interface Batch {
  /** Every change to settle once the store accepted the batch. */
  readonly changes: readonly ObjectChange[];
  /** The changes that write something, aligned with `ops`. */
  readonly withOps: readonly ObjectChange[];
  readonly ops: readonly WriteOp[];
  /** Objects left pending because another context holds them. */
  readonly deferred: readonly ObjectIdentity[];
}

/** One request to persist a set of objects atomically. */
export interface CommitRequest {
  readonly sessionId: string;
  readonly cores: readonly ObjectCore[];
  /** The caller's call chain: objects it holds are written as they are. */
  readonly chain: ChainLink | undefined;
  /**
   * `true`: wait (up to the lock timeout) for objects another context holds;
   * `false`: leave them pending for a later commit (the background commit).
   */
  readonly wait: boolean;
  readonly isolation?: Isolation | undefined;
  /** A background commit (for logs). */
  readonly background?: boolean | undefined;
  /** The committing session, whose logger (bound to its id) the commit's lines go to; read only when it logs, since making that logger costs about a microsecond. */
  readonly session?: { readonly logger: Logger } | undefined;
  /** Turns the caller already holds (a handover that made the objects idle): written as they are. */
  readonly holder?: object | undefined;
  /** Cluster mode: a scope's commit, which moves objects owned elsewhere to this process rather than failing. */
  readonly moveToCaller?: boolean | undefined;
}

/** Cluster mode: how a commit makes sure this process owns what it writes, and proves it to the store. */
export interface CommitFencing {
  /** Before the commit queues: takes the free slots of `cores` (`move`: pulls those owned elsewhere too). */
  claim(cores: readonly ObjectCore[], move: boolean): Promise<void>;
  /** The fencing token of a batch writing `cores`; throws `FencedError` for a slot this process does not own. */
  fence(cores: readonly ObjectCore[]): CommitFence;
  /** A batch writing `cores` was fenced: its objects in the slots named are no longer this process's; their changes are dropped and reported. */
  fenced(error: FencedError, cores: readonly ObjectCore[]): void;
  /** The error for a scope whose objects moved to another process while it held them (they are forwarding instances now). */
  movedAway(cores: readonly ObjectCore[]): FencedError;
}

/** Where committed changes go (the runtime's change events); asked only while `active`. */
export interface ChangeSink {
  readonly active: boolean;
  committed(changes: readonly StoreChange[]): void;
}

/** Where the wake times commits write go (the reminder service), so it looks for due reminders at the earliest. */
export interface WakeSink {
  wake(at: number): void;
}

/**
 * Persists change sets. Commits run one at a time in arrival order, so two
 * commits never race on the same object's version; waiting for other
 * contexts' turns happens before a commit joins the queue, so a waiting
 * commit never blocks the others.
 */
export class CommitPipeline {
  private readonly queue = new SerialQueue();
  /** The store once open: a commit then starts without waiting a tick for it. */
  private opened: Store | undefined;
  /** Set once another writer has been seen, so its warning is logged once per runtime. */
  private sawOtherWriter = false;

  constructor(
    private readonly store: () => Promise<Store>,
    private readonly identity: IdentityMap,
    private readonly lockTimeoutMs: () => number,
    private readonly telemetry: Telemetry,
    private readonly logger: Logger,
    /** Cluster mode only. */
    private readonly fencing?: CommitFencing | undefined,
    private readonly changes?: ChangeSink | undefined,
    private readonly wakes?: WakeSink | undefined,
  ) {}

  /** Commits waiting in line or running. */
  get backlog(): number {
    return this.queue.backlog;
  }

  commit(given: CommitRequest): Promise<CommitResult> {
    const request = given.cores.length < IN_CREATION_ORDER_FROM ? given : { ...given, cores: inCreationOrder(given.cores) };
    const store = this.opened;
    // Nothing in line, nothing held by others, a store that writes synchronously and no span to record: the whole
    // commit runs in the caller's tick, without the promises and turns of an awaited write.
    if (store !== undefined && writesNow(store) && this.queue.backlog === 0 && this.fencing === undefined && !(request.wait && anyBusy(request)) && !tracing()) {
      try {
        return Promise.resolve(this.queue.runNow(() => this.writeNow(request, request.holder ?? NO_HOLDER, store)));
      } catch (error) {
        return rejected(error);
      }
    }
    return this.commitQueued(request);
  }

  /** Resolves once every commit queued so far has finished. */
  async drain(): Promise<void> {
    await this.queue.onIdle();
  }

  private async commitQueued(request: CommitRequest): Promise<CommitResult> {
    const holder = request.holder ?? {};
    const taken: ObjectCore[] = [];
    try {
      // Most commits find nothing held by others: no wait, and no promise for one.
      const busy = request.wait ? busyCores(request) : [];
      if (busy.length > 0) await this.takeTurns(busy, holder, taken);
      if (this.fencing !== undefined) await this.fencing.claim(request.cores.filter((core) => core.hasPendingChanges && !core.remote), request.moveToCaller === true);
      return await this.queue.add(() =>
        inSpan('oaas.commit', () => ({ 'oaas.session': request.sessionId, 'oaas.objects': request.cores.length }), () => this.write(request, holder)),
      );
    } finally {
      for (const core of taken) core.releaseLock(holder);
    }
  }

  /** Waits for the turns of `busy` (in key order, so two commits never wait for each other), adding each to `taken`. */
  private async takeTurns(busy: readonly ObjectCore[], holder: object, taken: ObjectCore[]): Promise<void> {
    const timeout = this.lockTimeoutMs();
    for (const core of busy) {
      await core.ensureLock().acquire(holder, timeout, () => new LockTimeoutError(core.key, timeout));
      taken.push(core);
    }
  }

  private async write(request: CommitRequest, holder: object): Promise<CommitResult> {
    const batch = this.prepare(request, holder);
    if (batch.ops.length === 0) return this.finish(request, batch, NO_VERSIONS, 0);
    const store = this.opened ?? (this.opened = await this.store());
    const started = performance.now();
    let versions: readonly number[];
    try {
      const fence = this.fencing?.fence(batch.withOps.map((c) => c.core));
      versions = await store.apply(batch.ops, applyOptions(request.isolation, fence));
    } catch (error) {
      throw this.refused(request, batch, error, started);
    }
    return this.finish(request, batch, versions, started);
  }

  /** `write` on a store that writes synchronously, outside cluster mode (no fence). */
  private writeNow(request: CommitRequest, holder: object, store: SynchronousStore): CommitResult {
    const batch = this.prepare(request, holder);
    if (batch.ops.length === 0) return this.finish(request, batch, NO_VERSIONS, 0);
    const started = performance.now();
    let versions: readonly number[];
    try {
      versions = store.applyNow(batch.ops, applyOptions(request.isolation, undefined));
    } catch (error) {
      throw this.refused(request, batch, error, started);
    }
    return this.finish(request, batch, versions, started);
  }

  /** The changes of the request's objects, and their writes. */
  private prepare(request: CommitRequest, holder: object): Batch {
    // A scope takes its objects live. One that is a forwarding instance now moved to another process while the
    // scope held it, and what the scope did to it was dropped with it: the scope fails (and may run again)
    // rather than succeed without it.
    if (request.moveToCaller === true && this.fencing !== undefined) {
      const moved = request.cores.filter((core) => core.remote);
      if (moved.length > 0) throw this.fencing.movedAway(moved);
    }
    // Most changes are puts, each its own op: then one array is the changes, the changes that write, and their ops.
    const puts: ObjectPut[] = [];
    /** Every change in order, once one is not a put. */
    let mixed: ObjectChange[] | undefined;
    let deferred: ObjectIdentity[] | undefined;
    for (const core of request.cores) {
      // Another process's object (a forwarding instance): its owner commits it.
      if (core.remote) continue;
      // A deleted object that was never stored has nothing to write, but its bookkeeping must still be settled.
      const clean = !core.hasPendingChanges && !core.hasDirty && !core.deleted;
      const heldByOther = core.locked && core.holder !== holder && !chainHolds(request.chain, core);
      if (heldByOther) {
        if (!clean) (deferred ??= []).push(core.key);
        continue;
      }
      if (clean) {
        // Tracked but never changed (a refused write, say): nothing waits for a commit.
        forgetEverywhere(core);
        continue;
      }
      const change = computeChange(core);
      if (mixed === undefined && change instanceof ObjectPut) puts.push(change);
      else (mixed ??= [...puts]).push(change);
    }
    if (mixed === undefined) return { changes: puts, withOps: puts, ops: puts, deferred: deferred ?? NO_IDENTITIES };
    const withOps = mixed.filter((c) => c.op !== undefined);
    return { changes: mixed, withOps, ops: withOps.map((c) => c.op!), deferred: deferred ?? NO_IDENTITIES };
  }

  /** The store failed or refused the batch: its figures and log line, and the error the commit rejects with. */
  private refused(request: CommitRequest, batch: Batch, error: unknown, started: number): Error {
    const translated = translateCommitError(error);
    this.failed(request, batch.withOps, translated, performance.now() - started);
    if (translated instanceof FencedError) this.fencing?.fenced(translated, batch.withOps.map((c) => c.core));
    return translated;
  }

  /** The store accepted the batch (`started`: when it was handed to it): figures, bookkeeping, change events and wake times. */
  private finish(request: CommitRequest, batch: Batch, versions: readonly number[], started: number): CommitResult {
    const { changes, withOps } = batch;
    if (withOps.length > 0) {
      const durationMs = performance.now() - started;
      this.telemetry.commitFinished(durationMs, withOps.length, undefined);
      if (this.logger.isLevelEnabled('debug')) {
        this.sessionLogger(request).debug({ objects: withOps.length, durationMs, background: request.background === true }, 'commit');
      }
    }
    let i = 0;
    for (const change of changes) {
      this.settle(change, change.op === undefined ? undefined : versions[i++]);
    }
    if (withOps.length > 0 && this.changes?.active === true) this.report(withOps, versions);
    if (this.wakes !== undefined) {
      for (const c of withOps) if ((typeof c.reminders === 'string' || c.outbox !== undefined) && c.op instanceof ObjectPut && typeof c.op.wakeAt === 'number') this.wakes.wake(c.op.wakeAt);
    }
    return { sessionId: request.sessionId, committed: withOps.map((c) => c.core.key), deferred: batch.deferred };
  }

  /** Hands what the store accepted to the change events; only after settling, so a watcher reads the committed state. */
  private report(written: readonly ObjectChange[], versions: readonly number[]): void {
    const changes: StoreChange[] = [];
    written.forEach((c, i) => {
      const change = changeOf(c.op!, versions[i] ?? 0);
      if (change !== undefined) changes.push(change);
    });
    try {
      this.changes!.committed(changes);
    } catch (error) {
      this.logger.error({ err: error }, 'reporting committed changes to watchers failed; the commit stands');
    }
  }

  /** The session's child logger (bound to its id). */
  private sessionLogger(request: CommitRequest): Logger {
    return request.session?.logger ?? this.logger.child({ session: request.sessionId });
  }

  /** One log line and the figures for a commit the store refused or failed. */
  private failed(request: CommitRequest, changes: readonly ObjectChange[], error: Error, durationMs: number): void {
    this.telemetry.commitFinished(durationMs, 0, error);
    const conflicts = error instanceof ConflictError ? error.conflicts : error instanceof AlreadyExistsError ? error.refs.map((ref) => ({ ref, expected: 0, actual: -1 })) : [];
    if (conflicts.length > 0) this.telemetry.conflict(conflicts.length);
    // This process holds one live instance per object, so a version that moved under it was written by someone else.
    if (!this.sawOtherWriter && error instanceof ConflictError && error.conflicts.some((c) => c.expected > 0)) {
      this.sawOtherWriter = true;
      this.logger.warn(
        { objects: error.conflicts.map((c) => formatIdentity(c.ref)) },
        'another process wrote objects this process holds; their changes here are retried (scopes with retries) or discarded (write-behind). Several processes on one store need cluster mode (the cluster option): see docs/cluster.md',
      );
    }
    this.sessionLogger(request)[conflicts.length > 0 ? 'warn' : 'error'](
      {
        objects: changes.map((c) => formatIdentity(c.core.key)),
        durationMs,
        code: error instanceof OaasError ? error.code : undefined,
        err: error,
        background: request.background === true,
        ...(conflicts.length > 0 ? { conflicts: conflicts.map((c) => `${formatIdentity(c.ref)} expected v${c.expected} found v${c.actual}`) } : {}),
      },
      conflicts.length > 0 ? 'commit conflicted' : 'commit failed',
    );
  }

  /** Bookkeeping after the store accepted a change. */
  private settle(change: ObjectChange, version: number | undefined): void {
    const core = change.core;
    const written = version !== undefined && change.op?.kind === 'put';
    const outcome = core.committedChange(change.seq, written ? version : undefined, written ? change.encoded : undefined, change.reminders, change.outbox);
    if (written && change.op instanceof ObjectPut) core.storeHint = change.op.hint;
    if (outcome === 'removed') this.identity.remove(core);
    if (outcome !== 'dirty') forgetEverywhere(core);
  }
}

/** A store that offers `applyNow`. */
type SynchronousStore = Store & { readonly applyNow: NonNullable<Store['applyNow']> };

function writesNow(store: Store): store is SynchronousStore {
  return store.applyNow !== undefined;
}

/** The options of a batch built here from live objects: trusted, so the store may skip its argument checks. */
function applyOptions(isolation: Isolation | undefined, fence: CommitFence | undefined): ApplyOptions {
  return isolation === undefined && fence === undefined ? TRUSTED : { isolation, fence, [TRUSTED_BATCH]: true };
}

/** An object with changes that another context than `chain` holds now. */
function heldElsewhere(core: ObjectCore, chain: ChainLink | undefined): boolean {
  return core.hasPendingChanges && core.locked && !chainHolds(chain, core);
}

/** Whether another context holds an object of the commit that has changes. */
function anyBusy(request: CommitRequest): boolean {
  return request.cores.some((core) => heldElsewhere(core, request.chain));
}

/** The objects of a commit with changes that another context holds now, in key order. */
function busyCores(request: CommitRequest): ObjectCore[] {
  return request.cores
    .filter((core) => heldElsewhere(core, request.chain))
    .sort((a, b) => (a.keyString < b.keyString ? -1 : a.keyString > b.keyString ? 1 : 0));
}

/**
 * From this many objects a commit visits them in the order their records
 * were made rather than the order they were changed in: records made one
 * after another sit near each other in memory, and so do their rows in a
 * store that numbers rows as they are inserted, while a session collects its
 * objects in whatever order the application changed them. On 10,000 objects
 * changed in random order this saves more than the sort costs (see
 * docs/benchmarks.md, scenario 3); a small batch fits in the caches anyway.
 */
const IN_CREATION_ORDER_FROM = 1000;

/** Creations that met an existing object become AlreadyExistsError; foreign errors become StoreError. */
export function translateCommitError(error: unknown): Error {
  if (error instanceof ConflictError) {
    const creations = error.conflicts.filter((c) => c.expected === 0);
    if (creations.length > 0 && creations.length === error.conflicts.length) {
      return new AlreadyExistsError(
        creations.map((c) => c.ref),
        { cause: error },
      );
    }
    return error;
  }
  if (error instanceof OaasError) return error;
  return new StoreError(`store failed during commit: ${error instanceof Error ? error.message : String(error)}`, { transient: false }, { cause: error });
}
