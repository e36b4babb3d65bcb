import { InvalidArgumentError } from '../errors.js';
import type { OaasObject } from '../object/oaas-object.js';
import type { MethodOptions } from '../registry/class-meta.js';
import { method, service, type ServiceMethodDecorator } from '../registry/decorators.js';

type ObjectClass = abstract new () => OaasObject;

/**
 * A class description from `oparaca.newCls()`, as the manual session API
 * had it: apply it to a class as a decorator, and `func()` to its methods.
 *
 * @example
 * const Greeter = oaas.newCls('Greeter', 'demo');
 * \@Greeter
 * class GreeterObj extends OaasObject {
 *   greeting = 'hello';
 *   \@Greeter.func() async greet(name: string) { return `${this.greeting} ${name}`; }
 * }
 */
export interface ClsMeta {
  /** Registers the decorated class as `<pkg>.<name>` (a class decorator of either flavour, like `@service`). */
  (ctor: ObjectClass, context?: ClassDecoratorContext): void;
  readonly clsName: string;
  readonly pkg: string;
  /** `<pkg>.<name>` */
  readonly clsId: string;
  /** The decorated class, once the decorator ran. */
  readonly cls: ObjectClass | undefined;
  /** Marks an invocable method (same as `@method`). */
  func(options?: MethodOptions): ServiceMethodDecorator;
}

/** Builds a {@link ClsMeta}. */
export function createClsMeta(clsName: string, pkg = 'default'): ClsMeta {
  if (typeof clsName !== 'string' || clsName === '') throw new InvalidArgumentError('name', 'expected a non-empty class name');
  if (typeof pkg !== 'string' || pkg === '') throw new InvalidArgumentError('pkg', 'expected a non-empty package name');
  let cls: ObjectClass | undefined;
  const decorate = (ctor: ObjectClass, context?: ClassDecoratorContext): void => {
    // Standard decorators record members in the context's metadata: pass it on.
    service(clsName, { package: pkg })(ctor, context);
    cls = ctor;
  };
  return Object.defineProperties(decorate, {
    clsName: { value: clsName, enumerable: true },
    pkg: { value: pkg, enumerable: true },
    clsId: { value: `${pkg}.${clsName}`, enumerable: true },
    cls: { get: () => cls, enumerable: true },
    func: { value: (options?: MethodOptions) => method(options), enumerable: true },
  }) as unknown as ClsMeta;
}

/** True for a {@link ClsMeta}. */
export function isClsMeta(value: unknown): value is ClsMeta {
  return typeof value === 'function' && typeof (value as Partial<ClsMeta>).clsId === 'string' && 'func' in value;
}

/** The class behind a decorated class or a {@link ClsMeta}. */
export function classOf(cls: unknown): ObjectClass {
  if (isClsMeta(cls)) {
    if (cls.cls === undefined) throw new InvalidArgumentError('cls', `ClsMeta ${cls.clsId} has not decorated a class yet`);
    return cls.cls;
  }
  if (typeof cls !== 'function') throw new InvalidArgumentError('cls', 'expected a @service class or a ClsMeta');
  return cls as ObjectClass;
}
