// A call forwarded to the owner continues the caller's trace there: the owner's invocation span has the caller's trace id.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { Counter } from '../remote/fixtures/services.js';
import { describeOnSharedStores } from '../support/servers.js';
import { idOwnedBy, startMembers, stopMembers, type Member } from './support/in-process-cluster.js';

const spans = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
});
afterAll(() => {
  trace.disable();
  propagation.disable();
  context.disable();
});

await describeOnSharedStores((kind) => `tracing across cluster members on ${kind}`, (server) => {
  const members: Member[] = [];
  afterEach(() => stopMembers(members));

  it('continues the caller`s trace in the owner`s span of a forwarded call', { timeout: 30_000 }, async () => {
    members.push(...(await startMembers(await server.freshStore(), 2)));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, 'remote.Counter');
    await a.runtime.commitObjects([a.runtime.create(Counter, {}, { id })]);
    const remote = (await b.runtime.load(Counter, id, undefined)) as Counter;
    spans.reset();
    const traceId = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      await remote.increment();
      span.end();
      return span.spanContext().traceId;
    });
    const invoke = spans.getFinishedSpans().find((s) => s.name === 'oaas.invoke' && s.attributes['oaas.method'] === 'increment');
    expect(invoke, 'the owner recorded the forwarded call').toBeDefined();
    expect(invoke!.spanContext().traceId).toBe(traceId);
  });
});
