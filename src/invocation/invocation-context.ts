/**
 * What a method invoked by a transport (the HTTP gateway, the gRPC function
 * runtime) can read of the request it serves, and say about its reply: the
 * Oparaca `options` and `InvocationResponse.headers`. It travels in the SDK's
 * one async context beside the session and the call chain, changed on its
 * own: it belongs to one request, not to a unit of work or a chain of calls.
 */
import { currentInvocationContext, runWithInvocation, type InvocationContext } from '../session/async-context.js';

export type { InvocationContext } from '../session/async-context.js';

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
  return currentInvocationContext();
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
  return runWithInvocation(context, fn);
}

/**
 * A streaming method's values, each pulled in `context`: a stream is read
 * after the call that started it returned, outside the context it ran in.
 */
export async function* bindStream<T>(context: InvocationContext, stream: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    for (;;) {
      const step = await runWithInvocation(context, () => stream.next());
      if (step.done === true) return;
      yield step.value;
    }
  } finally {
    await runWithInvocation(context, () => stream.return(undefined));
  }
}

/** A reply header the method set, whatever the case of its name. */
export function replyHeader(context: InvocationContext, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(context.replyHeaders)) if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  return undefined;
}
