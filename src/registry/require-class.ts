import { ClassNotFoundError } from '../errors.js';
import type { ClassMeta } from './class-meta.js';
import { findClassMeta } from './registry.js';

/**
 * The metadata of a class given to the SDK (`create`, `load`, `refFor`, the
 * client, the manual API). A class that is not a registered `@service` is
 * not found, like an unknown class id: `RegistrationError` is for a
 * declaration the decorators refuse.
 */
export function requireClassMeta(cls: unknown): ClassMeta {
  const meta = findClassMeta(cls);
  if (meta === undefined) throw ClassNotFoundError.forClass(cls);
  return meta;
}
