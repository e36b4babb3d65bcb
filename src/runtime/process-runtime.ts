/**
 * The process-wide runtime and the top-level functions that delegate to it.
 * A runtime is created from the environment on first use, or explicitly by
 * `configureOaas`.
 */
import type { ReminderErrorListener } from './reminders/reminder-reports.js';
import type { TriggerErrorListener } from './triggers/trigger-delivery.js';
import { resolveConfig, type OaasConfig } from '../config.js';
import { OaasRuntime } from './oaas-runtime.js';
import type { Unwatch, WatchListener, WatchOptions, WatchTarget } from './events/watch-types.js';
import type { CommitErrorListener, CommitSummary, HealthReport, ShutdownOptions } from './runtime-types.js';
import { ShutdownError } from '../errors.js';
import { promiseOf } from '../promises.js';
import { setObjectFactory } from '../object/oaas-object.js';
import { setRefLoader } from '../object/object-ref.js';
import type { OaasStats } from '../observability/telemetry.js';
import type { ScopeOptions } from '../session/scope.js';
import type { Session } from '../session/session.js';

let runtime: OaasRuntime | undefined;
/** Set by a `shutdown()` that found no runtime, so later calls still reject until `configureOaas`. */
let shutDownEarly = false;
/** Why the last `configureOaas` could not open its store; calls reject with it until one succeeds. */
let failedConfiguration: { readonly error: unknown } | undefined;

/** The active runtime, created from the environment (`OAAS_*` variables) on first use. */
export function getAutoSessionManager(): OaasRuntime {
  if (runtime === undefined) {
    if (failedConfiguration !== undefined) throw notConfigured(failedConfiguration.error);
    if (shutDownEarly) throw new ShutdownError();
    runtime = new OaasRuntime(resolveConfig());
  }
  return runtime;
}

setObjectFactory(getAutoSessionManager);
setRefLoader((ref) => getAutoSessionManager().loadRef(ref));

/**
 * (Re)configures the process-wide runtime. A previous runtime is shut down
 * first (and flushed); the new one opens its store after that. Registered
 * classes stay registered; the new runtime starts with no live objects and
 * no sessions. Rejects with `ConfigurationError` naming the field at fault
 * (the previous runtime then stays as it was), or with the previous
 * runtime's `CommitError` if its flush failed (the new runtime is installed
 * all the same). When the new store cannot be opened it rejects with that
 * error and leaves no runtime: later calls reject with `ShutdownError`
 * (whose cause is the open error) until a `configureOaas` succeeds.
 *
 * @example
 * await configureOaas({ store: 'sqlite:data/state.db', autoCommitIntervalMs: 200 });
 */
export async function configureOaas(config?: OaasConfig): Promise<void> {
  const resolved = resolveConfig(config);
  const previous = runtime;
  // A runtime already shut down by the application reported its outcome there; only a flush started here is ours to report.
  const ours = previous !== undefined && !previous.isShutDown;
  const closing = previous?.shutdown();
  runtime = new OaasRuntime(resolved, closing);
  shutDownEarly = false;
  failedConfiguration = undefined;
  const next = runtime;
  let previousError: unknown;
  try {
    await closing;
  } catch (error) {
    if (ours) previousError = error;
  }
  try {
    await next.ready();
  } catch (error) {
    // A runtime without a store would take objects and fail only at commit or shutdown: uninstall it
    // (unless a later configureOaas replaced it already) and stop its timer; what it holds cannot be written.
    if (runtime === next) {
      runtime = undefined;
      failedConfiguration = { error };
    }
    await next.shutdown({ timeoutMs: 0 }).catch(() => undefined);
    throw error;
  }
  if (previousError !== undefined) throw previousError as Error;
}

function notConfigured(cause: unknown): ShutdownError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ShutdownError(`the OaaS runtime is not running: the last configureOaas() could not open its store (${reason}); call configureOaas() again`, { cause });
}

/** The session of the current async context (created and bound on first use). */
export function currentSession(): Session {
  return getAutoSessionManager().getSession();
}

/**
 * Runs `fn` in a fresh session and resolves with its result. Use one per
 * unit of work that should not share pending changes with others: an HTTP
 * request, a queue message, a job.
 *
 * @example
 * http.createServer((req, res) => runInSession(() => handle(req, res)));
 */
export function runInSession<T>(fn: () => T | Promise<T>): Promise<T> {
  return promiseOf(() => getAutoSessionManager().runInSession(fn));
}

/**
 * Runs `fn(session)` atomically: what it creates, changes and deletes commits
 * in one transaction when it resolves; when it throws (or the commit fails)
 * every touched object is restored and the scope rejects with the error.
 *
 * @example
 * await sessionScope(async () => {
 *   const [from, to] = await Promise.all([Account.load('a'), Account.load('b')]);
 *   await from.withdraw(10);
 *   await to.deposit(10);
 * }, { retries: 3 });
 */
export function sessionScope<T>(fn: (session: Session) => T | Promise<T>, options?: ScopeOptions): Promise<T> {
  return promiseOf(() => getAutoSessionManager().sessionScope(fn, options));
}

/** Commits every session with pending changes; rejects with `CommitError` if any failed. */
export function commitAll(): Promise<CommitSummary> {
  return promiseOf(() => getAutoSessionManager().commitAll());
}

/**
 * Flushes and closes the runtime; later SDK calls reject with `ShutdownError` until `configureOaas`.
 * Resolves at once when there is no runtime (none was used yet, or the last `configureOaas` failed).
 */
export async function shutdown(options?: ShutdownOptions): Promise<void> {
  if (runtime === undefined) {
    shutDownEarly = true;
    return;
  }
  await runtime.shutdown(options);
}

/** Checks the store and reports pending work; see `OaasRuntime.healthCheck`. */
export async function healthCheck(): Promise<HealthReport> {
  return await getAutoSessionManager().healthCheck();
}

/** The runtime's figures as a plain object (commits, conflicts, rollbacks, pending objects, ...). */
export function getStats(): OaasStats {
  return getAutoSessionManager().getStats();
}

/** The runtime's figures in the Prometheus text format. */
export async function metricsText(): Promise<string> {
  return await getAutoSessionManager().metricsText();
}

/** Subscribes to background commit failures; returns the unsubscribe function. */
export function onCommitError(listener: CommitErrorListener): () => void {
  return getAutoSessionManager().onCommitError(listener);
}

/** Subscribes to failed reminder firings; returns the unsubscribe function. */
export function onReminderError(listener: ReminderErrorListener): () => void {
  return getAutoSessionManager().onReminderError(listener);
}

/** Subscribes to failed trigger deliveries; returns the unsubscribe function. */
export function onTriggerError(listener: TriggerErrorListener): () => void {
  return getAutoSessionManager().onTriggerError(listener);
}

/** Starts the background commit. */
export function enableAutoCommit(): void {
  getAutoSessionManager().enableAutoCommit();
}

/** Stops the background commit (pending changes wait for an explicit commit or shutdown). */
export function disableAutoCommit(): void {
  getAutoSessionManager().disableAutoCommit();
}

/** Sets the background commit interval (ms > 0) and restarts its timer. */
export function setAutoCommitInterval(ms: number): void {
  getAutoSessionManager().setAutoCommitInterval(ms);
}

/**
 * Calls `listener` for every committed version of one object (an
 * `ObjectRef`, a live object or `{ clsId, partitionId, objectId }`) or of
 * every object of a class (a `@service` class or its class id, with
 * `options.partitionId`), in version order per object, after the commit
 * succeeded. A listener that falls behind gets a `gap` event naming the
 * versions it missed. Other processes' commits arrive too on PostgreSQL and
 * Redis. Returns the function that stops the watch; see docs/events.md.
 *
 * @example
 * const stop = watch(Counter, (event) => console.log(event.kind, String(event.ref), event.version));
 * await stop.ready;
 * // ... later
 * stop();
 */
export function watch(target: WatchTarget, listener: WatchListener, options?: WatchOptions): Unwatch {
  return getAutoSessionManager().watch(target, listener, options);
}
