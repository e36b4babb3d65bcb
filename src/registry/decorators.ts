import type { FieldOptions, GetterOptions, MethodOptions, ServiceOptions } from './class-meta.js';
import { recordAccessor, recordField, recordMethod, recordTransient, registerClass } from './registry.js';
import { RegistrationError } from '../errors.js';

// Decorators only record metadata; the runtime reads the registry.
// They target TypeScript's `experimentalDecorators` (with `emitDecoratorMetadata`).

function propertyName(key: string | symbol, decorator: string): string {
  if (typeof key !== 'string') throw new RegistrationError(`${decorator} cannot decorate symbol members`);
  return key;
}

/**
 * Declares a durable service class. The class must extend `OaasObject`;
 * its id is `<package>.<name>`.
 *
 * @example
 * \@service('Counter', { package: 'demo' })
 * class Counter extends OaasObject {
 *   count = 0;
 *   \@method() async increment(by = 1) { this.count += by; return this.count; }
 * }
 */
export function service(name: string, options?: ServiceOptions) {
  return <C extends abstract new () => object>(ctor: C): void => {
    registerClass(ctor, name, options);
  };
}

/** Marks a method as invocable: calls run as turns, atomically on their object. */
export function method(options?: MethodOptions) {
  return (prototype: object, key: string | symbol, _descriptor?: PropertyDescriptor): void => {
    recordMethod(prototype, propertyName(key, '@method'), options);
  };
}

/** Sets the key a state field is stored under. */
export function field(options?: FieldOptions) {
  return (prototype: object, key: string | symbol): void => {
    recordField(prototype, propertyName(key, '@field'), options);
  };
}

/** Excludes a property from the object's persisted state. */
export function transient() {
  return (prototype: object, key: string | symbol): void => {
    recordTransient(prototype, propertyName(key, '@transient'));
  };
}

/**
 * Declares a read of one state field, reachable like a method (in process,
 * on refs and over HTTP) without running a method body. The field defaults
 * to the member's name without `get` (`getCount` reads `count`).
 *
 * @example
 * \@getter('profile', { projection: ['name'] }) declare getName: () => Promise<{ name: string }>;
 */
export function getter(field?: string, options: GetterOptions = {}) {
  return (prototype: object, key: string | symbol): void => {
    recordAccessor(prototype, propertyName(key, '@getter'), 'getter', field, options.projection);
  };
}

/**
 * Declares a write of one state field (a turn on the object, validated like
 * any write). The field defaults to the member's name without `set`.
 *
 * @example
 * \@setter() declare setCount: (count: number) => Promise<void>;
 */
export function setter(field?: string) {
  return (prototype: object, key: string | symbol): void => {
    recordAccessor(prototype, propertyName(key, '@setter'), 'setter', field, undefined);
  };
}
