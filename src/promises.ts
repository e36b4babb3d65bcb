/**
 * Promise helpers for the hot entry points. On Node 20 every promise pays
 * the AsyncLocalStorage hooks, so an entry point hands back the promise it
 * already has rather than wrapping it in an async function (two promises
 * fewer per call); these keep the one thing the wrapper did: a synchronous
 * throw still reaches the caller as a rejection.
 */

/** A promise rejected with exactly `error`, whatever it is (callers get errors unchanged). */
export function rejected(error: unknown): Promise<never> {
  return new Promise<never>(() => {
    throw error;
  });
}

/** `fn()` as a promise: its own promise as it is, any other value resolved, a synchronous throw rejected. */
export function promiseOf<T>(fn: () => T | Promise<T>): Promise<T> {
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (error) {
    return rejected(error);
  }
  return result instanceof Promise ? result : Promise.resolve(result);
}
