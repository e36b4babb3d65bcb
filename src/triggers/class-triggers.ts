import type { ClassMeta } from '../registry/class-meta.js';
import { hasTriggers } from './match.js';
import { resolveTriggers, type ResolvedTriggers } from './resolve-triggers.js';

const resolved = new WeakMap<ClassMeta, ResolvedTriggers | null>();

/**
 * A class's triggers resolved against the registry, once per class: at the
 * first instance the runtime makes, when every class of the program has
 * registered. `undefined` for a class without triggers (most of them).
 * Throws `RegistrationError` for a target that names no class or method.
 */
export function triggersOf(meta: ClassMeta): ResolvedTriggers | undefined {
  let found = resolved.get(meta);
  if (found === undefined) {
    found = hasTriggers(meta) ? resolveTriggers(meta) : null;
    resolved.set(meta, found);
  }
  return found ?? undefined;
}
