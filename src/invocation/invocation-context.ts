/**
 * What a method invoked by a transport (the HTTP gateway, the gRPC function
 * runtime) can read of the request it serves, and say about its reply: the
 * Oparaca `options` and `InvocationResponse.headers`. A context of its own,
 * apart from the session and call-chain contexts, because it belongs to one
 * request, not to a unit of work or a chain of calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** The invocation a transport is serving. */
export interface InvocationContext {
  /**
   * The request's options, keys in lower case: over HTTP, the request's
   * `accept`, `content-type` and (when valid) `traceparent` headers; over
   * gRPC, `InvocationRequest.options` as the platform sent them.
   */
  readonly options: Readonly<Record<string, string>>;
  /**
   * Headers of the reply (`InvocationResponse.headers`). A `content-type` set here labels a method's raw result (a `Uint8Array`
   * or a string) in the Oparaca gateway dialect.
   */
  readonly replyHeaders: Record<string, string>;
}

const invocationContext = new AsyncLocalStorage<InvocationContext>();

/**
 * The invocation being served, inside a method a transport invoked (and
 * whatever that method awaits in this process); `undefined` elsewhere, e.g.
 * in a call made in process.
 *
 * @example
 * @method()
 * async render(): Promise<string> {
 *   const accept = currentInvocation()?.options.accept ?? '';
 *   if (accept.includes('text/html')) currentInvocation()!.replyHeaders['content-type'] = 'text/html';
 *   return `<p>${this.count}</p>`;
 * }
 */
export function currentInvocation(): InvocationContext | undefined {
  return invocationContext.getStore();
}

/** A new context for one invocation with the request's `options` (keys lowered) and no reply headers yet. */
export function createInvocationContext(options: Readonly<Record<string, string>> = {}): InvocationContext {
  const lowered: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (typeof value === 'string') Object.defineProperty(lowered, key.toLowerCase(), { value, enumerable: true });
  }
  return { options: Object.freeze(lowered), replyHeaders: {} };
}

/** Runs `fn` (a transport serving one invocation) in `context`. */
export function runInInvocation<T>(context: InvocationContext, fn: () => T): T {
  return invocationContext.run(context, fn);
}

/**
 * A streaming method's values, each pulled in `context`: a stream is read
 * after the call that started it returned, outside the context it ran in.
 */
export async function* bindStream<T>(context: InvocationContext, stream: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    for (;;) {
      const step = await invocationContext.run(context, () => stream.next());
      if (step.done === true) return;
      yield step.value;
    }
  } finally {
    await invocationContext.run(context, () => stream.return(undefined));
  }
}

/** A reply header the method set, whatever the case of its name. */
export function replyHeader(context: InvocationContext, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(context.replyHeaders)) if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  return undefined;
}
