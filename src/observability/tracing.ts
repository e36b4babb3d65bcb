/**
 * The SDK's spans. With no tracer provider registered (the OpenTelemetry
 * API's default), a span would be a non-recording one that still costs a
 * context, a span object and two async frames; `inSpan` then calls `fn`
 * directly instead. The provider is looked up at every span, so one
 * registered (or disabled) later is seen at once.
 */
import { ProxyTracerProvider, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';

const TRACER_NAME = 'oaas-sdk';

/** The SDK's tracer when a provider is registered; `undefined` when spans would go nowhere. */
function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  // The API's global is a proxy, which has a delegate only once an SDK registered a provider.
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer(TRACER_NAME) : provider.getTracer(TRACER_NAME);
}

/** Whether spans are recorded (a tracer provider is registered). */
export function tracing(): boolean {
  return activeTracer() !== undefined;
}

/**
 * Runs `fn` in an active span named `name` (attributes built only when it
 * is recorded); the span records an exception and an error status if `fn`
 * rejects.
 */
export function inSpan<T>(name: string, attributes: () => Attributes, fn: () => Promise<T>): Promise<T> {
  const tracer = activeTracer();
  if (tracer === undefined) return fn();
  return tracer.startActiveSpan(name, { attributes: attributes() }, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}
