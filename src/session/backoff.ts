/**
 * The one back-off rule of the runtime: `baseMs * 2^(attempt - 1)`, capped at
 * `capMs`. With `jitter`, the delay is drawn from [0, that], so processes
 * retrying against each other spread out instead of colliding again.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, jitter = false): number {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), capMs);
  return jitter ? Math.random() * delay : delay;
}
