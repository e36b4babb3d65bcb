/**
 * The runtime's figures, three ways: OpenTelemetry instruments (no-ops until
 * the application installs an OpenTelemetry SDK, which it must do before the
 * runtime is configured), a Prometheus registry (`metricsText()`, served at
 * `/metrics`), and plain numbers (`getStats()`).
 *
 * Hot-path events (method calls) only bump plain numbers and a no-op-cheap
 * OpenTelemetry instrument; Prometheus reads those numbers at scrape time.
 */
import { metrics, type Attributes, type MetricOptions, type ObservableCallback } from '@opentelemetry/api';
import { Counter, Gauge, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram.js';

/** Running totals of one kind of duration. */
export interface DurationStats {
  readonly count: number;
  readonly totalMs: number;
  readonly maxMs: number;
}

/** What `getStats()` returns. */
export interface OaasStats {
  /** Commits that reached the store (successful or not). */
  readonly commits: number;
  readonly commitFailures: number;
  /** Objects written by successful commits. */
  readonly committedObjects: number;
  /** Version conflicts met at commit. */
  readonly conflicts: number;
  /** Re-runs: scopes after conflicts or lock timeouts, methods with `retries`, background commits after failures. */
  readonly retries: number;
  /** Rolled-back method calls and scopes, by error type. */
  readonly rollbacks: Readonly<Record<string, number>>;
  /** Method calls by `<clsId>.<method>`, split by outcome. */
  readonly invocations: Readonly<Record<string, { readonly ok: number; readonly error: number }>>;
  readonly commitDuration: DurationStats;
  readonly scopeDuration: DurationStats;
  readonly invocationDuration: DurationStats;
  /** Objects per committed batch. */
  readonly batchSize: { readonly count: number; readonly total: number; readonly max: number };
  readonly pendingObjects: number;
  readonly oldestPendingAgeMs: number;
  readonly openSessions: number;
  readonly openScopes: number;
  /** Cluster mode only: this member and what it owns, forwards and moves. */
  readonly cluster?: ClusterStats | undefined;
  /** Change events (`watch`). */
  readonly events?: EventStats | undefined;
  /** Reminders (`schedule()`). */
  readonly reminders?: ReminderStats | undefined;
  /** Trigger delivery. */
  readonly triggers?: TriggerStats | undefined;
}

/** The figures of reminders (`getStats().reminders`, `/metrics`). */
export interface ReminderStats {
  /** Objects with a due reminder at the last look. */
  readonly due: number;
  /** How late the most overdue of them was, in ms, at the last look. */
  readonly overdueMs: number;
  /** Firings that took effect. */
  readonly fired: number;
  /** Firings that threw (each is retried or given up). */
  readonly failed: number;
  /** Reminders given up after their last attempt. */
  readonly dropped: number;
}

/** The figures of trigger delivery. */
export interface TriggerStats {
  /** Events delivered to all their targets. */
  readonly delivered: number;
  /** Deliveries a target had already taken (after a crash between delivery and its record), skipped rather than run again. */
  readonly redelivered: number;
  /** Deliveries that failed (each retried or given up). */
  readonly failed: number;
  /** Events given up after their last attempt. */
  readonly dropped: number;
  /** Events waiting in the outbox of the object delivered last. */
  readonly depth: number;
}

/** The figures of the change events (`watch`). */
export interface EventStats {
  /** Watches registered and not stopped (event streams included). */
  readonly watches: number;
  /** Object versions this process's commits reported while anyone watched. */
  readonly committed: number;
  /** Object versions heard from other processes through the store. */
  readonly received: number;
  /** Change events handed to listeners. */
  readonly delivered: number;
  /** Gap markers handed to listeners. */
  readonly gaps: number;
}

/** A cluster member's figures. */
export interface ClusterStats {
  readonly memberId: string;
  readonly url: string;
  /** 0 until it has joined. */
  readonly incarnation: number;
  /** Live members, this one included, as its last view saw them. */
  readonly members: number;
  readonly ownedSlots: number;
  /** Live objects of this process in the slots it owns. */
  readonly ownedObjects: number;
  /** Calls (in process and HTTP) this member sent to the owner of their object. */
  readonly forwardedCalls: number;
  /** Slots this member handed over to another (fair share, a scope's move, leaving). */
  readonly handovers: number;
  /** Slots this member took from a member that fell silent past its lease. */
  readonly takeovers: number;
  /** Commits of this member the store refused because it no longer owned their slots. */
  readonly fencedCommits: number;
}

/** Where the gauges read from. */
export interface GaugeSource {
  pendingObjects(): number;
  oldestPendingAgeMs(): number;
  openSessions(): number;
  openScopes(): number;
}

class Durations {
  count = 0;
  totalMs = 0;
  maxMs = 0;
  add(ms: number): void {
    this.count += 1;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }
  snapshot(): DurationStats {
    return { count: this.count, totalMs: this.totalMs, maxMs: this.maxMs };
  }
}

/** One method's call counts and its two attribute sets, made once. */
interface InvocationEntry {
  readonly clsId: string;
  readonly method: string;
  readonly counts: { ok: number; error: number };
  readonly ok: Attributes;
  readonly error: Attributes;
}

/** A commit's attribute sets, made once. */
const COMMIT_OK: Attributes = Object.freeze({ outcome: 'ok' });
const COMMIT_ERROR: Attributes = Object.freeze({ outcome: 'error' });

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One runtime's instruments. */
export class Telemetry {
  private commits = 0;
  private commitFailures = 0;
  private committedObjects = 0;
  private conflicts = 0;
  private retries = 0;
  private readonly rollbacks = new Map<string, number>();
  private readonly invocations = new Map<string, { ok: number; error: number }>();
  /** The same counts by class id then method name, with their attributes: a call looks them up without building a key. */
  private readonly invocationsByClass = new Map<string, Map<string, InvocationEntry>>();
  /** The entry of the last call counted: calls in a row to one method skip both lookups. */
  private lastInvocation: InvocationEntry | undefined;
  private readonly commitDurations = new Durations();
  private readonly scopeDurations = new Durations();
  private readonly invocationDurations = new Durations();
  private batches = 0;
  private batchObjects = 0;
  private batchMax = 0;

  /** Undoes the gauge callbacks, so a closed runtime is no longer observed (nor kept alive by the meter). */
  private readonly detach: (() => void)[] = [];
  private readonly otel;
  /** The Prometheus registry of this runtime. */
  readonly registry = new Registry();
  private readonly prom;
  private clusterSource: (() => ClusterStats) | undefined;
  private eventSource: (() => EventStats) | undefined;
  private reminderSource: (() => ReminderStats) | undefined;
  private triggerSource: (() => TriggerStats) | undefined;

  constructor(private readonly source: GaugeSource) {
    const meter = metrics.getMeter('oaas-sdk');
    this.otel = {
      commits: meter.createCounter('oaas.commits', { description: 'commits that reached the store' }),
      committedObjects: meter.createCounter('oaas.committed_objects', { description: 'objects written by commits' }),
      rollbacks: meter.createCounter('oaas.rollbacks', { description: 'rolled-back method calls and scopes' }),
      conflicts: meter.createCounter('oaas.conflicts', { description: 'version conflicts at commit' }),
      retries: meter.createCounter('oaas.retries', { description: 're-runs after retryable failures' }),
      invocations: meter.createCounter('oaas.invocations', { description: 'method calls' }),
      commitDuration: meter.createHistogram('oaas.commit.duration', { unit: 'ms', description: 'commit duration' }),
      scopeDuration: meter.createHistogram('oaas.scope.duration', { unit: 'ms', description: 'sessionScope duration' }),
      invocationDuration: meter.createHistogram('oaas.invocation.duration', { unit: 'ms', description: 'method call duration' }),
      batchSize: meter.createHistogram('oaas.commit.batch_size', { description: 'objects per commit' }),
    };
    const gauges: [string, MetricOptions, () => number][] = [
      ['oaas.pending_objects', { description: 'objects waiting for a commit' }, () => source.pendingObjects()],
      ['oaas.oldest_pending_age', { unit: 'ms', description: 'age of the oldest change not yet committed' }, () => source.oldestPendingAgeMs()],
      ['oaas.open_sessions', { description: 'sessions alive' }, () => source.openSessions()],
      ['oaas.open_scopes', { description: 'sessionScopes running' }, () => source.openScopes()],
    ];
    for (const [name, options, read] of gauges) {
      const gauge = meter.createObservableGauge(name, options);
      const callback: ObservableCallback = (result) => {
        result.observe(read());
      };
      gauge.addCallback(callback);
      this.detach.push(() => {
        gauge.removeCallback(callback);
      });
    }
    this.prom = this.prometheus();
  }

  private prometheus() {
    const registers = [this.registry];
    const counter = (name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter) {
          this.reset();
          read((labels, v) => {
            if (v > 0) this.inc(labels, v);
          });
        },
      });
    counter('oaas_commits_total', 'Commits that reached the store.', [], (set) => {
      set({}, this.commits);
    });
    counter('oaas_commit_failures_total', 'Commits the store refused or failed.', [], (set) => {
      set({}, this.commitFailures);
    });
    counter('oaas_committed_objects_total', 'Objects written by commits.', [], (set) => {
      set({}, this.committedObjects);
    });
    counter('oaas_conflicts_total', 'Version conflicts met at commit.', [], (set) => {
      set({}, this.conflicts);
    });
    counter('oaas_retries_total', 'Re-runs after retryable failures.', [], (set) => {
      set({}, this.retries);
    });
    counter('oaas_rollbacks_total', 'Rolled-back method calls and scopes.', ['error'], (set) => {
      for (const [error, n] of this.rollbacks) set({ error }, n);
    });
    counter('oaas_invocations_total', 'Method calls.', ['cls', 'method', 'outcome'], (set) => {
      for (const [key, n] of this.invocations) {
        const dot = key.lastIndexOf('.');
        set({ cls: key.slice(0, dot), method: key.slice(dot + 1), outcome: 'ok' }, n.ok);
        set({ cls: key.slice(0, dot), method: key.slice(dot + 1), outcome: 'error' }, n.error);
      }
    });
    counter('oaas_invocation_duration_seconds_total', 'Time spent in method calls.', [], (set) => {
      set({}, this.invocationDurations.totalMs / 1000);
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect(this: Gauge) {
          this.set(read());
        },
      });
    // The figures a part of the runtime reports through a source (cluster, events, reminders, triggers): 0 while it
    // has none, or (`omitWhenAbsent`, cluster mode) no sample at all.
    const family = <S>(source: () => S | undefined, omitWhenAbsent = false) => ({
      counter: (name: string, help: string, read: (stats: S) => number) =>
        counter(name, help, [], (set) => {
          const stats = source();
          if (stats !== undefined) set({}, read(stats));
          else if (!omitWhenAbsent) set({}, 0);
        }),
      gauge: (name: string, help: string, read: (stats: S) => number) =>
        gauge(name, help, () => {
          const stats = source();
          return stats === undefined ? 0 : read(stats);
        }),
    });
    const cluster = family(() => this.clusterSource?.(), true);
    cluster.counter('oaas_cluster_forwarded_calls_total', 'Calls sent to the owner of their object (cluster mode).', (s) => s.forwardedCalls);
    cluster.counter('oaas_cluster_handovers_total', 'Slots handed over to another member (cluster mode).', (s) => s.handovers);
    cluster.counter('oaas_cluster_takeovers_total', 'Slots taken from a member silent past its lease (cluster mode).', (s) => s.takeovers);
    cluster.counter('oaas_cluster_fenced_commits_total', 'Commits refused because their slots had passed on (cluster mode).', (s) => s.fencedCommits);
    cluster.gauge('oaas_cluster_members', 'Live cluster members, as this one sees them (0 outside cluster mode).', (s) => s.members);
    cluster.gauge('oaas_cluster_owned_slots', 'Slots this member owns (0 outside cluster mode).', (s) => s.ownedSlots);
    cluster.gauge('oaas_cluster_owned_objects', 'Live objects in the slots this member owns.', (s) => s.ownedObjects);
    const events = family(() => this.eventSource?.());
    events.counter('oaas_events_committed_total', 'Object versions this process committed while anyone watched.', (s) => s.committed);
    events.counter('oaas_events_received_total', 'Object versions heard from other processes through the store.', (s) => s.received);
    events.counter('oaas_events_delivered_total', 'Change events handed to watch listeners.', (s) => s.delivered);
    events.counter('oaas_event_gaps_total', 'Gap markers handed to watch listeners (versions they missed).', (s) => s.gaps);
    events.gauge('oaas_watches', 'Watches registered (event streams included).', (s) => s.watches);
    const reminders = family(() => this.reminderSource?.());
    reminders.counter('oaas_reminders_fired_total', 'Reminder firings that took effect.', (s) => s.fired);
    reminders.counter('oaas_reminders_failed_total', 'Reminder firings whose method threw or whose commit failed (each retried or given up).', (s) => s.failed);
    reminders.counter('oaas_reminders_dropped_total', 'Reminders given up after their last attempt.', (s) => s.dropped);
    reminders.gauge('oaas_reminders_due', 'Objects with a due reminder at the last look.', (s) => s.due);
    reminders.gauge('oaas_reminders_overdue_seconds', 'How late the most overdue reminder was at the last look.', (s) => s.overdueMs / 1000);
    const triggers = family(() => this.triggerSource?.());
    triggers.counter('oaas_trigger_deliveries_total', 'Trigger events delivered to all their targets.', (s) => s.delivered);
    triggers.counter('oaas_trigger_redeliveries_total', 'Trigger deliveries a target had already taken, skipped rather than run again.', (s) => s.redelivered);
    triggers.counter('oaas_trigger_delivery_failures_total', 'Trigger deliveries that failed (each retried or given up).', (s) => s.failed);
    triggers.counter('oaas_trigger_events_dropped_total', 'Trigger events given up after their last attempt.', (s) => s.dropped);
    triggers.gauge('oaas_outbox_depth', 'Trigger events waiting in the outbox of the object delivered last.', (s) => s.depth);
    gauge('oaas_pending_objects', 'Objects waiting for a commit.', () => this.source.pendingObjects());
    gauge('oaas_oldest_pending_age_seconds', 'Age of the oldest change not yet committed.', () => this.source.oldestPendingAgeMs() / 1000);
    gauge('oaas_open_sessions', 'Sessions alive.', () => this.source.openSessions());
    gauge('oaas_open_scopes', 'sessionScopes running.', () => this.source.openScopes());
    return {
      commitDuration: new BucketHistogram({ name: 'oaas_commit_duration_seconds', help: 'Commit duration.', buckets: SECONDS, registers }),
      scopeDuration: new BucketHistogram({ name: 'oaas_scope_duration_seconds', help: 'sessionScope duration.', buckets: SECONDS, registers }),
      batchSize: new BucketHistogram({ name: 'oaas_commit_batch_size', help: 'Objects per commit.', buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000], registers }),
    };
  }

  /** A commit reached the store (`error` set when it failed). */
  commitFinished(durationMs: number, objects: number, error: unknown): void {
    this.commits += 1;
    this.commitDurations.add(durationMs);
    this.otel.commits.add(1, error === undefined ? COMMIT_OK : COMMIT_ERROR);
    this.otel.commitDuration.record(durationMs);
    this.prom.commitDuration.observe(durationMs / 1000);
    if (error !== undefined) {
      this.commitFailures += 1;
      return;
    }
    this.committedObjects += objects;
    this.batches += 1;
    this.batchObjects += objects;
    if (objects > this.batchMax) this.batchMax = objects;
    this.otel.committedObjects.add(objects);
    this.otel.batchSize.record(objects);
    this.prom.batchSize.observe(objects);
  }

  conflict(objects: number): void {
    this.conflicts += objects;
    this.otel.conflicts.add(objects);
  }

  retry(kind: 'method' | 'scope' | 'background'): void {
    this.retries += 1;
    this.otel.retries.add(1, { kind });
  }

  rollback(kind: 'method' | 'scope', error: unknown): void {
    const type = error instanceof Error ? error.name : typeof error;
    this.rollbacks.set(type, (this.rollbacks.get(type) ?? 0) + 1);
    this.otel.rollbacks.add(1, { kind, error: type });
  }

  invocation(clsId: string, method: string, ok: boolean, durationMs: number): void {
    const last = this.lastInvocation;
    const entry = last !== undefined && last.method === method && last.clsId === clsId ? last : this.invocationEntry(clsId, method);
    if (ok) entry.counts.ok += 1;
    else entry.counts.error += 1;
    this.invocationDurations.add(durationMs);
    const attributes = ok ? entry.ok : entry.error;
    this.otel.invocations.add(1, attributes);
    this.otel.invocationDuration.record(durationMs, attributes);
  }

  private invocationEntry(clsId: string, method: string): InvocationEntry {
    let byMethod = this.invocationsByClass.get(clsId);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.invocationsByClass.set(clsId, byMethod);
    }
    let entry = byMethod.get(method);
    if (entry === undefined) {
      const counts = { ok: 0, error: 0 };
      this.invocations.set(`${clsId}.${method}`, counts);
      const attributes = (outcome: string): Attributes => Object.freeze({ cls: clsId, method, outcome });
      entry = { clsId, method, counts, ok: attributes('ok'), error: attributes('error') };
      byMethod.set(method, entry);
    }
    this.lastInvocation = entry;
    return entry;
  }

  scopeFinished(durationMs: number): void {
    this.scopeDurations.add(durationMs);
    this.otel.scopeDuration.record(durationMs);
    this.prom.scopeDuration.observe(durationMs / 1000);
  }

  stats(): OaasStats {
    return {
      commits: this.commits,
      commitFailures: this.commitFailures,
      committedObjects: this.committedObjects,
      conflicts: this.conflicts,
      retries: this.retries,
      rollbacks: Object.fromEntries(this.rollbacks),
      invocations: Object.fromEntries([...this.invocations].map(([k, v]) => [k, { ...v }])),
      commitDuration: this.commitDurations.snapshot(),
      scopeDuration: this.scopeDurations.snapshot(),
      invocationDuration: this.invocationDurations.snapshot(),
      batchSize: { count: this.batches, total: this.batchObjects, max: this.batchMax },
      pendingObjects: this.source.pendingObjects(),
      oldestPendingAgeMs: this.source.oldestPendingAgeMs(),
      openSessions: this.source.openSessions(),
      openScopes: this.source.openScopes(),
      ...(this.clusterSource === undefined ? {} : { cluster: this.clusterSource() }),
      ...(this.eventSource === undefined ? {} : { events: this.eventSource() }),
      ...(this.reminderSource === undefined ? {} : { reminders: this.reminderSource() }),
      ...(this.triggerSource === undefined ? {} : { triggers: this.triggerSource() }),
    };
  }

  /** Cluster mode: where the cluster figures are read from. */
  attachCluster(source: () => ClusterStats): void {
    this.clusterSource = source;
  }

  /** Where the reminder and trigger figures are read from. */
  attachWakes(reminders: () => ReminderStats, triggers: () => TriggerStats): void {
    this.reminderSource = reminders;
    this.triggerSource = triggers;
  }

  /** Where the change-event figures are read from. */
  attachEvents(source: () => EventStats): void {
    this.eventSource = source;
  }

  /** Stops reporting this runtime's gauges (its counters keep their totals for `getStats()`). */
  close(): void {
    for (const undo of this.detach.splice(0)) undo();
  }

  /** The Prometheus text exposition of this runtime's figures. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }
}
