import type { FieldOptions, MethodOptions, ServiceOptions } from './class-meta.js';
import { recordField, recordMethod, recordTransient, registerClass } from './registry.js';
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
