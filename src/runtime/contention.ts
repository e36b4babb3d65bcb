import { FencedError, ShutdownError, isRetryable } from '../errors.js';

/**
 * Errors of contention, not of the code that met them: version conflicts
 * past a scope's retries, lock timeouts, transient store failures, a slot
 * moving to another process, the runtime closing. A reminder firing or a
 * trigger delivery that meets one stays due as it was, and is not counted
 * as a failed attempt.
 */
export function isContention(error: unknown): boolean {
  return isRetryable(error) || error instanceof FencedError || error instanceof ShutdownError;
}
