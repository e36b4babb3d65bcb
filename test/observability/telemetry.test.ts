import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, OaasObject, StoreError, commitAll, configureOaas, getStats, method, metricsText, service, sessionScope } from '../../src/index.js';
import { captureLogs } from '../support/logs.js';
import { RecordingStore } from '../support/recording-store.js';
import { shutdownAfterEach } from '../support/runtime.js';
import { Account, Counter } from '../support/services.js';

shutdownAfterEach();

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const reader = new TestReader();
const spans = new InMemorySpanExporter();

beforeAll(() => {
  // The SDK must be installed before the runtime is configured.
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
});
afterAll(() => {
  metrics.disable();
  trace.disable();
  context.disable();
});

async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics }: { resourceMetrics: ResourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).filter((m) => m.descriptor.name === name).flatMap((m) => m.dataPoints as DataPoint<unknown>[]);
}

const sum = async (name: string, attributes: Record<string, unknown> = {}): Promise<number> =>
  (await points(name))
    .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : 0), 0);

const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('metrics, spans and logs', () => {
  it('counts a call of a method with retries once, with its outcome, whether it succeeds after a retry or fails every run', async () => {
    @service('Flaky', { package: 'telemetry' })
    class Flaky extends OaasObject {
      failuresLeft = 0;
      @method({ retries: 2 })
      async run(): Promise<void> {
        if (this.failuresLeft > 0) {
          // The rollback puts the counter back, so a module-level count keeps the runs apart.
          runs += 1;
          if (runs <= failuresBefore) throw new Error('flaky');
        }
      }
    }
    let runs = 0;
    let failuresBefore = 1;
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const flaky = Flaky.create({ failuresLeft: 1 }, { id: 'f' });
    await flaky.run();
    runs = 0;
    failuresBefore = 10;
    await expect(flaky.run()).rejects.toThrow('flaky');
    expect(getStats().invocations['telemetry.Flaky.run']).toEqual({ ok: 1, error: 1 });
    expect(await sum('oaas.invocations', { cls: 'telemetry.Flaky', method: 'run', outcome: 'ok' })).toBe(1);
  });

  it('counts each class and method apart when calls alternate between them', async () => {
    @service('Left', { package: 'telemetry' })
    class Left extends OaasObject {
      n = 0;
      @method()
      async bump(): Promise<void> {
        this.n += 1;
      }
      @method()
      async other(): Promise<void> {}
    }
    @service('Right', { package: 'telemetry' })
    class Right extends OaasObject {
      n = 0;
      @method()
      async bump(): Promise<void> {
        this.n += 1;
      }
    }
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const [left, right] = [Left.create({}, { id: 'l' }), Right.create({}, { id: 'r' })];
    for (let i = 0; i < 3; i++) {
      await left.bump();
      await left.bump();
      await right.bump();
      await left.other();
    }
    const { invocations } = getStats();
    expect(invocations['telemetry.Left.bump']).toEqual({ ok: 6, error: 0 });
    expect(invocations['telemetry.Right.bump']).toEqual({ ok: 3, error: 0 });
    expect(invocations['telemetry.Left.other']).toEqual({ ok: 3, error: 0 });
    expect(await sum('oaas.invocations', { cls: 'telemetry.Right', method: 'bump', outcome: 'ok' })).toBe(3);
  });

  it('counts commits, objects, conflicts, rollbacks, retries and invocations, and measures them', async () => {
    const store = new RecordingStore();
    const { logger, lines } = captureLogs();
    await configureOaas({ store, logger, autoCommit: false });
    const baseCommits = await sum('oaas.commits');
    const counter = Counter.create({}, { id: 'm1' });
    await counter.increment(2);
    await expect(counter.incrementThenFail(1)).rejects.toThrow('refused 1');
    await commitAll();
    expect(await sum('oaas.commits', { outcome: 'ok' })).toBe(baseCommits + 1);
    expect(await sum('oaas.committed_objects')).toBeGreaterThanOrEqual(1);
    expect(await sum('oaas.invocations', { cls: 'test.Counter', method: 'increment', outcome: 'ok' })).toBe(1);
    expect(await sum('oaas.invocations', { cls: 'test.Counter', method: 'incrementThenFail', outcome: 'error' })).toBe(1);
    expect(await sum('oaas.rollbacks', { kind: 'method', error: 'RangeError' })).toBe(1);

    // A failed commit, then a conflict in a scope that retries.
    counter.count = 10;
    store.failNext(1, () => new StoreError('disk full', { transient: false }));
    await expect(commitAll()).rejects.toThrow();
    expect(await sum('oaas.commits', { outcome: 'error' })).toBe(1);
    await commitAll();
    const account = Account.create({ balance: 5 }, { id: 'acc' });
    await commitAll();
    let runs = 0;
    await sessionScope(async () => {
      if (runs++ === 0) await store.apply([{ kind: 'put', key: account.asRef(), expectedVersion: 1, set: new Map([['balance', encode(50)]]) }]);
      await account.withdraw(1);
    }, { retries: 1 });
    expect(await sum('oaas.conflicts')).toBe(1);
    expect(await sum('oaas.retries', { kind: 'scope' })).toBe(1);
    expect(await sum('oaas.rollbacks', { kind: 'scope', error: 'ConflictError' })).toBe(1);

    const durations = await points('oaas.commit.duration');
    expect(durations.length).toBeGreaterThan(0);
    const pending = await points('oaas.pending_objects');
    expect(pending[0]?.value).toBe(0);

    const stats = getStats();
    expect(stats).toMatchObject({ conflicts: 1, commitFailures: 2 /* the store failure and the conflict */, retries: 1, rollbacks: { RangeError: 1, ConflictError: 1 } });
    expect(stats.invocations['test.Counter.increment']).toEqual({ ok: 1, error: 0 });
    expect(stats.commitDuration.count).toBe(stats.commits);
    expect(stats.openScopes).toBe(0);

    // One structured line per failure, conflict, rollback and retry.
    expect(lines.find((l) => l.msg === 'method call rolled back')).toMatchObject({ level: 30, object: 'test.Counter/0/m1', method: 'incrementThenFail' });
    expect(lines.find((l) => l.msg === 'commit failed')).toMatchObject({ level: 50, code: 'OAAS_ERR_STORE_FAILED', objects: ['test.Counter/0/m1'] });
    expect(lines.find((l) => l.msg === 'commit conflicted')).toMatchObject({ level: 40, code: 'OAAS_ERR_COMMIT_CONFLICT', objects: ['test.Account/0/acc'] });
    expect(lines.find((l) => l.msg === 'scope rolled back')).toMatchObject({ level: 30, objects: ['test.Account/0/acc'], retrying: true });
    const commitLines = lines.filter((l) => l.msg === 'commit');
    expect(commitLines.length).toBe(stats.commits - stats.commitFailures);
    expect(commitLines.every((l) => l.level === 20 && typeof l.durationMs === 'number')).toBe(true);
    // At info, only rollbacks and retries: nothing for calls and commits that succeed.
    expect(lines.filter((l) => l.level === 30).every((l) => /rolled back|retried/.test(String(l.msg)))).toBe(true);
  });

  it('observes pending objects, the oldest pending age, open sessions and open scopes', async () => {
    await configureOaas({ store: new RecordingStore(), autoCommit: false, logLevel: 'silent' });
    Counter.create({}, { id: 'waiting' });
    await new Promise((r) => setTimeout(r, 25));
    let release!: () => void;
    const scope = sessionScope(async () => {
      Counter.create({}, { id: 'in-scope' });
      await new Promise<void>((r) => (release = r));
    });
    await new Promise((r) => setImmediate(r));
    expect((await points('oaas.pending_objects'))[0]?.value).toBe(2);
    expect((await points('oaas.oldest_pending_age'))[0]?.value).toBeGreaterThanOrEqual(20);
    expect((await points('oaas.open_scopes'))[0]?.value).toBe(1);
    const during = (await points('oaas.open_sessions'))[0]?.value as number;
    expect(during).toBeGreaterThanOrEqual(2);
    release();
    await scope;
    // A scope's session leaves the count when the scope ends, not when it is collected.
    expect((await points('oaas.open_sessions'))[0]?.value).toBe(during - 1);
    await commitAll();
    expect((await points('oaas.open_scopes'))[0]?.value).toBe(0);
    expect((await points('oaas.pending_objects'))[0]?.value).toBe(0);
    expect((await points('oaas.oldest_pending_age'))[0]?.value).toBe(0);
  });

  it('records spans for scopes and commits, the commit inside its scope', async () => {
    await configureOaas({ store: new RecordingStore(), autoCommit: false, logLevel: 'silent' });
    spans.reset();
    await sessionScope(() => Counter.create({}, { id: 'spanned' }));
    const finished = spans.getFinishedSpans();
    const scope = finished.find((s) => s.name === 'oaas.scope');
    const commit = finished.find((s) => s.name === 'oaas.commit');
    expect(scope?.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(commit?.parentSpanContext?.spanId).toBe(scope?.spanContext().spanId);
    await expect(sessionScope(() => {
      throw new ConflictError([]);
    })).rejects.toBeInstanceOf(ConflictError);
    expect(spans.getFinishedSpans().at(-1)?.status.code).toBe(2);
  });

  it('exposes the same figures as Prometheus text', async () => {
    await configureOaas({ store: new RecordingStore(), autoCommit: false, logLevel: 'silent' });
    const c = Counter.create({}, { id: 'prom' });
    await c.increment();
    await commitAll();
    const text = await metricsText();
    expect(text).toMatch(/^oaas_commits_total 1$/m);
    expect(text).toMatch(/^oaas_invocations_total\{cls="test.Counter",method="increment",outcome="ok"\} 1$/m);
    expect(text).toMatch(/^oaas_pending_objects 0$/m);
    expect(text).toMatch(/^oaas_commit_duration_seconds_count 1$/m);
  });
});

describe('trace context across remote calls', () => {
  it('continues the caller`s traceparent in the invocation span', async () => {
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
    const { Gateway } = await import('../../src/invocation/gateway.js');
    const { getAutoSessionManager } = await import('../../src/index.js');
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    await configureOaas({ store: new RecordingStore(), autoCommit: false, logLevel: 'silent' });
    Counter.create({}, { id: 'traced' });
    await commitAll();
    spans.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const gateway = new Gateway(getAutoSessionManager);
    await gateway.invoke({ clsId: 'test.Counter', partitionId: 0, objectId: 'traced', method: 'increment', body: '2', traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const invoke = spans.getFinishedSpans().find((s) => s.name === 'oaas.invoke');
    expect(invoke?.spanContext().traceId).toBe(traceId);
    expect(invoke?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(spans.getFinishedSpans().find((s) => s.name === 'oaas.scope')?.spanContext().traceId).toBe(traceId);
  });

  it('continues a traceparent sent over HTTP, and echoes it on the reply', async () => {
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
    const { serve } = await import('../../src/server/serve.js');
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    await configureOaas({ store: new RecordingStore(), autoCommit: false, logLevel: 'silent' });
    Counter.create({}, { id: 'traced-http' });
    await commitAll();
    const server = await serve({ port: 0 });
    try {
      spans.reset();
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const traceparent = `00-${traceId}-b7ad6b7169203331-01`;
      const reply = await fetch(`${server.url}/api/class/test.Counter/0/objects/traced-http/invokes/increment`, { method: 'POST', body: '2', headers: { traceparent } });
      expect(reply.status).toBe(200);
      expect(await reply.json()).toBe(2);
      expect(reply.headers.get('traceparent')).toBe(traceparent);
      const invoke = spans.getFinishedSpans().find((s) => s.name === 'oaas.invoke');
      expect(invoke?.spanContext().traceId).toBe(traceId);
      expect(invoke?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    } finally {
      await server.close();
    }
  });
});
