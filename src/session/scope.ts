import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConflictError, FencedError, InvalidArgumentError, LockTimeoutError, ObjectBusyError, formatIdentity } from '../errors.js';
import type { Telemetry } from '../observability/telemetry.js';
import { currentChain, runInChain, runWithSessionInChain } from './async-context.js';
import { inSpan } from '../observability/tracing.js';
import { normalizePartitionId } from '../identity.js';
import type { ObjectCore } from '../object/object-core.js';
import type { Isolation } from '../stores/store.js';
import { chainHolds, innermostScope, type ChainLink, type ScopeFrames } from './call-chain.js';
import type { ManagedSession, Session } from './session.js';
import { backoffDelay } from '../backoff.js';
import { UndoFrame } from './undo-frame.js';
import { rejected } from '../promises.js';

/** Options of `sessionScope`. */
export interface ScopeOptions {
  /** Partition of objects created in the scope without one. @default the configured `defaultPartition` */
  readonly partitionId?: number | undefined;
  /** Isolation of the commit's store transaction (stores that are always serializable ignore it). */
  readonly isolation?: Isolation | undefined;
  /** How long to wait for an object another context holds. @default the configured `lockTimeoutMs` */
  readonly lockTimeoutMs?: number | undefined;
  /** How many times to run `fn` again after a `ConflictError`, a `LockTimeoutError` or (cluster mode) a `FencedError`. @default 0 */
  readonly retries?: number | undefined;
}

/** What a scope needs from the runtime. */
export interface ScopeHost {
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly defaultPartition: number;
  readonly lockTimeoutMs: number;
  assertAcceptingWork(chain: ChainLink | undefined): void;
  openScopeSession(partitionId: number): ManagedSession;
  /** The scope ended: its session takes no more objects. */
  closeScopeSession(session: ManagedSession): void;
  commitScope(session: ManagedSession, cores: readonly ObjectCore[], chain: ChainLink, isolation: Isolation | undefined): Promise<unknown>;
  /** Drops an object whose creation is rolled back. */
  discardCreated(core: ObjectCore): void;
  /** Re-reads objects a conflict showed to be stale, before a retry, while the scope (`holder`) still holds them. */
  refreshStale(error: ConflictError, holder: ChainLink, session: ManagedSession): Promise<void>;
  scopeOpened(): void;
  scopeClosed(): void;
}

/** Scope retries wait a random time up to 2, 4, 8... ms, at most 100 ms. */
const RETRY_BASE_MS = 2;
const RETRY_CAP_MS = 100;

const ISOLATIONS: ReadonlySet<string> = new Set(['read-committed', 'repeatable-read', 'serializable']);

/** One level of a (possibly nested) scope: its rollback records and, at the root, the held objects. */
class ScopeLevel implements ScopeFrames {
  readonly frames = new Map<ObjectCore, UndoFrame>();
  readonly holder: object;
  private readonly held: ObjectCore[] = [];

  constructor(
    readonly parent: ScopeLevel | undefined,
    readonly session: ManagedSession,
    private readonly lockTimeoutMs: number,
  ) {
    this.holder = parent?.holder ?? {};
  }

  private get root(): ScopeLevel {
    return this.parent === undefined ? this : this.parent.root;
  }

  async hold(core: ObjectCore, chain: ChainLink | undefined): Promise<void> {
    if (this.frames.has(core)) return;
    if (!chainHolds(chain, core)) {
      const timeout = this.lockTimeoutMs;
      await core.ensureLock().acquire(this.holder, timeout, () => new LockTimeoutError(core.key, timeout));
      this.root.held.push(core);
    }
    this.frameOf(core);
  }

  holdNow(core: ObjectCore, chain: ChainLink | undefined): UndoFrame {
    const existing = this.frames.get(core);
    if (existing !== undefined) return existing;
    if (!chainHolds(chain, core)) {
      if (!core.tryHold(this.holder)) throw new ObjectBusyError(core.key);
      this.root.held.push(core);
    }
    return this.frameOf(core);
  }

  private frameOf(core: ObjectCore): UndoFrame {
    let frame = this.frames.get(core);
    if (frame === undefined) {
      frame = new UndoFrame(core, undefined);
      this.frames.set(core, frame);
    }
    return frame;
  }

  /** Objects this level touched (at the root: everything the scope commits). */
  touched(): ObjectCore[] {
    return [...this.frames.keys()];
  }

  /** A nested level succeeded: its records join the enclosing level. */
  mergeIntoParent(): void {
    const parent = this.parent;
    if (parent === undefined) return;
    for (const [core, frame] of this.frames) frame.mergeInto(parent.frameOf(core));
  }

  /** Puts every touched object back as this level first saw it; drops its creations. */
  rollback(host: ScopeHost): void {
    for (const [core, frame] of this.frames) {
      if (frame.created) host.discardCreated(core);
      else frame.restore();
    }
    this.frames.clear();
  }

  /** Releases what the scope holds (at the root only: nested levels hold for the root). */
  releaseAll(): void {
    if (this.parent !== undefined) return;
    for (const core of this.held.splice(0)) core.releaseLock(this.holder);
  }
}

interface CheckedOptions {
  readonly partitionId: number;
  readonly isolation: Isolation | undefined;
  readonly lockTimeoutMs: number;
  readonly retries: number;
}

function checkOptions(options: unknown, host: ScopeHost): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'expected an object');
  const { partitionId, isolation, lockTimeoutMs, retries } = options as ScopeOptions;
  if (isolation !== undefined && !ISOLATIONS.has(isolation)) {
    throw new InvalidArgumentError('isolation', `expected one of ${[...ISOLATIONS].join(', ')}, got ${String(isolation)}`);
  }
  if (lockTimeoutMs !== undefined && (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs < 1)) {
    throw new InvalidArgumentError('lockTimeoutMs', `expected an integer >= 1, got ${String(lockTimeoutMs)}`);
  }
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0)) {
    throw new InvalidArgumentError('retries', `expected an integer >= 0, got ${String(retries)}`);
  }
  return {
    partitionId: partitionId === undefined ? host.defaultPartition : normalizePartitionId(partitionId),
    isolation,
    lockTimeoutMs: lockTimeoutMs ?? host.lockTimeoutMs,
    retries: retries ?? 0,
  };
}

/**
 * Runs `fn` as an atomic unit: everything it creates, changes and deletes
 * commits together when it resolves, or is undone entirely when it throws
 * or the commit fails. Nested inside another scope it is a savepoint: its
 * failure undoes only its own changes, its success waits for the outer commit.
 */
export function runScope<T>(host: ScopeHost, fn: (session: Session) => T | Promise<T>, options: ScopeOptions = {}): Promise<T> {
  // Not an async function: the scope's own promise is the caller's (one layer of promises fewer per scope).
  try {
    return startScope(host, fn, options);
  } catch (error) {
    return rejected(error);
  }
}

/** Checks the arguments (throwing), then runs the attempts in the scope's span. */
function startScope<T>(host: ScopeHost, fn: (session: Session) => T | Promise<T>, options: ScopeOptions): Promise<T> {
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'sessionScope expects a function');
  const opts = checkOptions(options, host);
  const chain = currentChain();
  host.assertAcceptingWork(chain);
  const parent = innermostScope(chain) as ScopeLevel | undefined;
  if (parent !== undefined && options.partitionId !== undefined && opts.partitionId !== parent.session.partitionId) {
    throw new InvalidArgumentError('partitionId', 'a nested sessionScope shares its outer scope`s session; it cannot use another partition');
  }
  return inSpan('oaas.scope', () => ({ nested: parent !== undefined }), attempts);

  async function attempts(): Promise<T> {
    host.scopeOpened();
    const started = performance.now();
    try {
      for (let attempt = 0; ; attempt++) {
        const session = parent?.session ?? host.openScopeSession(opts.partitionId);
        const level = new ScopeLevel(parent, session, opts.lockTimeoutMs);
        const link: ChainLink = { parent: chain, holder: level.holder, scope: level };
        try {
          // `fn` runs with the scope's link as the chain (and at the root its own session); a synchronous throw is caught below as a rejection would be.
          const result = await (parent === undefined ? runWithSessionInChain(session, link, () => fn(session)) : runInChain(link, () => fn(session)));
          if (parent === undefined) await host.commitScope(session, level.touched(), link, opts.isolation);
          else level.mergeIntoParent();
          return result;
        } catch (error) {
          const touched = level.touched().map((core) => formatIdentity(core.key));
          level.rollback(host);
          host.telemetry.rollback('scope', error);
          // A fenced commit (cluster mode): an object moved to another process meanwhile; a re-run moves it back first.
          const retryable = error instanceof ConflictError || error instanceof LockTimeoutError || error instanceof FencedError;
          const retrying = retryable && attempt < opts.retries;
          session.logger.info({ objects: touched, err: error, attempt: attempt + 1, retrying }, 'scope rolled back');
          // Reload while the scope still holds the stale objects: once released, another call could take one and change it.
          if (error instanceof ConflictError && parent === undefined) await host.refreshStale(error, link, session);
          if (!retrying) throw error;
          host.telemetry.retry('scope');
          level.releaseAll();
          // Competing writers (other processes) retry at spread-out moments rather than in lock-step.
          await sleep(backoffDelay(attempt + 1, RETRY_BASE_MS, RETRY_CAP_MS, true));
        } finally {
          level.releaseAll();
          if (parent === undefined) host.closeScopeSession(session);
        }
      }
    } finally {
      host.telemetry.scopeFinished(performance.now() - started);
      host.scopeClosed();
    }
  }
}
