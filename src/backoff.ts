/**
 * The one back-off rule of the SDK (scopes, background commits, shutdown,
 * store reconnects): `baseMs * 2^(attempt - 1)`, capped at `capMs`. With
 * `jitter`, the delay is drawn from [0, that], so processes retrying against
 * each other spread out instead of colliding again. It sits at the root so
 * every layer, stores included, can use it.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, jitter = false): number {
  const delay = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), capMs);
  return jitter ? Math.random() * delay : delay;
}
