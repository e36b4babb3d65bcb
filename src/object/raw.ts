/**
 * The tracking proxies' back door: every proxy the SDK hands out is registered
 * here with its target, so copying code can read the plain value without
 * going through (and re-triggering) the proxy traps.
 */
const targets = new WeakMap<object, object>();

/** Records that `proxy` stands for `target`. */
export function registerProxy(proxy: object, target: object): void {
  targets.set(proxy, target);
}

/** The plain value behind a tracking proxy, or the value itself. */
export function rawOf<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    const target = targets.get(value);
    if (target !== undefined) return target as T;
  }
  return value;
}
