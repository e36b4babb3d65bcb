// The SDK's spans follow the global tracer provider as it is at each span: none registered, no
// spans (and the scope and commit run as without tracing); registered after the runtime started,
// the next scope is traced; disabled again, nothing more is recorded.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, expect, it } from 'vitest';
import { OaasObject, configureOaas, method, service, sessionScope } from '../../src/index.js';
import { shutdownAfterEach } from '../support/runtime.js';

shutdownAfterEach();
afterAll(() => {
  trace.disable();
  context.disable();
});

@service('Traced', { package: 'tracing' })
class Traced extends OaasObject {
  count = 0;
  @method()
  async bump(): Promise<number> {
    this.count += 1;
    return this.count;
  }
}

it('traces scopes and commits once a tracer provider is registered, also after the runtime started, and stops when it is disabled', async () => {
  await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
  const spans = new InMemorySpanExporter();
  const traced = await sessionScope(() => Traced.create({}, { id: 't' }));
  await expect(sessionScope(() => traced.bump())).resolves.toBe(1);
  await expect(sessionScope(() => Promise.reject(new Error('untraced failure')))).rejects.toThrow('untraced failure');

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
  await expect(sessionScope(() => traced.bump())).resolves.toBe(2);
  await expect(sessionScope(() => Promise.reject(new Error('traced failure')))).rejects.toThrow('traced failure');
  const names = spans.getFinishedSpans().map((s) => s.name);
  expect(names.filter((n) => n === 'oaas.scope')).toHaveLength(2);
  expect(names.filter((n) => n === 'oaas.commit')).toHaveLength(1);
  const failed = spans.getFinishedSpans().find((s) => s.name === 'oaas.scope' && s.status.message === 'traced failure');
  expect(failed?.events.map((e) => e.name)).toEqual(['exception']);

  trace.disable();
  spans.reset();
  await expect(sessionScope(() => traced.bump())).resolves.toBe(3);
  expect(spans.getFinishedSpans()).toEqual([]);
});
