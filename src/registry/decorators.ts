import type { FieldOptions, GetterOptions, MethodOptions, ServiceOptions } from './class-meta.js';
import { recordAccessor, recordField, recordMethod, recordTransient, registerClass } from './registry.js';
import { RegistrationError } from '../errors.js';

// Decorators only record metadata; the runtime reads the registry. Each one
// works under both decorator flavours and tells them apart by its arguments:
// TypeScript's `experimentalDecorators` call `(prototype, key, descriptor?)`,
// standard (TC39) decorators call `(value, context)`.
//
// Standard member decorators never see the prototype, so they record into the
// class's decorator metadata (`context.metadata`), which `@service` hands to
// the registry. TypeScript only creates that object when `Symbol.metadata`
// exists, and Node 20 lacks it. This module runs before any class that
// imports these decorators is defined; esbuild (tsx) uses
// `Symbol.for('Symbol.metadata')` when the symbol is missing, so both agree.
(Symbol as { metadata?: symbol }).metadata ??= Symbol.for('Symbol.metadata');

// The bound `ClassMethodDecoratorContext` puts on its method type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethod<This> = (this: This, ...args: any) => any;

/** `@service(...)`: decorates a class under either decorator flavour. */
export type ServiceClassDecorator = <C extends abstract new () => object>(ctor: C, context?: ClassDecoratorContext<C>) => void;

/** `@method(...)`: decorates a method under either decorator flavour. */
export interface ServiceMethodDecorator {
  /** Standard decorators. */
  <This, F extends AnyMethod<This>>(value: F, context: ClassMethodDecoratorContext<This, F>): void;
  /** `experimentalDecorators`. */
  (prototype: object, key: string | symbol, descriptor?: PropertyDescriptor): void;
}

/** `@field(...)` and `@transient()`: decorate a field under either decorator flavour. */
export interface StateFieldDecorator {
  /** Standard decorators. */
  <This, V>(value: undefined, context: ClassFieldDecoratorContext<This, V>): void;
  /** `experimentalDecorators`. */
  (prototype: object, key: string | symbol, descriptor?: undefined): void;
}

/** `@getter(...)` and `@setter(...)`: decorate a field (or a method stub) under either decorator flavour. */
export interface FieldAccessorDecorator {
  /** Standard decorators, on a field: `@getter() getCount!: () => Promise<number>`. */
  <This, V>(value: undefined, context: ClassFieldDecoratorContext<This, V>): void;
  /** Standard decorators, on a method whose body never runs. */
  <This, F extends AnyMethod<This>>(value: F, context: ClassMethodDecoratorContext<This, F>): void;
  /** `experimentalDecorators`, on a field or a `declare` member. */
  (prototype: object, key: string | symbol, descriptor?: PropertyDescriptor): void;
}

type MemberKind = 'method' | 'field' | 'getter' | 'setter' | 'accessor';

/** A decorated class member, whichever flavour decorated it. */
interface Member {
  /** Where its record goes: the prototype (`experimentalDecorators`) or the class's decorator metadata (standard). */
  readonly holder: object;
  readonly name: string;
  readonly kind: MemberKind;
  /** The function, for a method. */
  readonly value: unknown;
}

const KIND_WORDS: Record<MemberKind | 'class', string> = {
  method: 'a method',
  field: 'a field',
  getter: 'a getter',
  setter: 'a setter',
  accessor: 'an auto-accessor',
  class: 'a class',
};

function isStandardContext(value: unknown): value is DecoratorContext {
  return typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string';
}

/** The kind of member an `experimentalDecorators` descriptor describes (fields get none). */
function legacyKind(descriptor: unknown): MemberKind {
  if (typeof descriptor !== 'object' || descriptor === null) return 'field';
  const d = descriptor as PropertyDescriptor;
  if (typeof d.value === 'function') return 'method';
  if (d.get !== undefined) return 'getter';
  if (d.set !== undefined) return 'setter';
  return 'field';
}

/** Reads a member decorator's arguments in either calling convention and checks it may decorate that member. */
function decorated(decorator: string, allowed: readonly MemberKind[], args: readonly unknown[]): Member {
  const [target, second, descriptor] = args;
  let holder: unknown;
  let name: unknown;
  let kind: MemberKind | 'class';
  let isStatic: boolean;
  let value: unknown;
  if (isStandardContext(second)) {
    const context = second as DecoratorContext & { static?: boolean; private?: boolean; name: unknown };
    ({ kind, name } = context);
    if (context.private === true) throw new RegistrationError(`${decorator} cannot decorate private members; ${String(name)} is private`);
    isStatic = context.static === true;
    holder = context.metadata;
    value = target;
  } else if ((typeof target === 'object' || typeof target === 'function') && target !== null && (typeof second === 'string' || typeof second === 'symbol')) {
    name = second;
    // Called by hand, a method decorator may get no descriptor: the prototype has it.
    kind = legacyKind(descriptor ?? Object.getOwnPropertyDescriptor(target, second));
    // Static members are decorated with the constructor instead of the prototype.
    isStatic = typeof target === 'function';
    holder = target;
    value = kind === 'method' ? ((descriptor as PropertyDescriptor | undefined)?.value ?? (target as Record<string | symbol, unknown>)[second]) : undefined;
  } else if (args.length < 2) {
    // A factory's result run as a field initialiser, with the field's value.
    throw notCalled(decorator);
  } else {
    throw new RegistrationError(`${decorator} must decorate a class member`);
  }
  if (typeof name !== 'string') throw new RegistrationError(`${decorator} cannot decorate symbol members`);
  if (!(allowed as readonly string[]).includes(kind)) {
    const allowedWords = allowed.map((k) => KIND_WORDS[k].replace(/^an? /, '')).join(' or ');
    throw new RegistrationError(`${decorator} can only decorate a ${allowedWords}; ${name} is ${KIND_WORDS[kind]}`);
  }
  if (isStatic) throw new RegistrationError(`${decorator} cannot decorate static members; ${name} is static`);
  if (typeof holder !== 'object' || holder === null) {
    // Compilers from before decorator metadata (TypeScript < 5.2) pass none.
    throw new RegistrationError(`${decorator} on ${name}: the compiler passed no decorator metadata (context.metadata); use TypeScript 5.2 or later, or experimentalDecorators`);
  }
  return { holder, name, kind: kind as MemberKind, value };
}

/**
 * A decorator factory used as a decorator (`@method` for `@method()`) gets a
 * decorator's first argument in place of its own: a function (the method or
 * class under standard decorators, the class for a static member) or a
 * prototype (`experimentalDecorators`). Under standard decorators a field
 * passes `undefined`, which this cannot see; the factory's result then
 * becomes the field's initialiser, and {@link decorated} reports it.
 */
function checkCalled(decorator: string, firstArgument: unknown): void {
  const isPrototype = typeof firstArgument === 'object' && firstArgument !== null && Object.hasOwn(firstArgument, 'constructor');
  if (typeof firstArgument === 'function' || isPrototype) throw notCalled(decorator);
}

function notCalled(decorator: string): RegistrationError {
  return new RegistrationError(`${decorator} is a decorator factory; write ${decorator}() with parentheses`);
}

/**
 * Declares a durable service class. The class must extend `OaasObject`;
 * its id is `<package>.<name>`. `onCreate`, `onUpdate` and `onDelete`
 * declare its data triggers (docs/triggers.md).
 *
 * @example
 * \@service('Counter', { package: 'demo' })
 * class Counter extends OaasObject {
 *   count = 0;
 *   \@method() async increment(by = 1) { this.count += by; return this.count; }
 * }
 * @example
 * \@service('Order', { package: 'shop', onCreate: [{ cls: () => Audit, method: 'record', objectId: 'orders' }] })
 */
export function service(name: string, options?: ServiceOptions): ServiceClassDecorator {
  checkCalled('@service', name);
  // A member's context when misplaced under standard decorators, hence not only a class's.
  return (ctor: abstract new () => object, context?: DecoratorContext): void => {
    if (isStandardContext(context) && context.kind !== 'class') {
      throw new RegistrationError(`@service can only decorate a class; ${String(context.name)} is ${KIND_WORDS[context.kind]}`);
    }
    registerClass(ctor, name, options, isStandardContext(context) ? context.metadata : undefined);
  };
}

/**
 * Marks a method as invocable: calls run as turns, atomically on their
 * object. `onComplete` and `onError` declare its function triggers.
 *
 * @example
 * \@method({ onComplete: [{ cls: 'Mailer', method: 'receipt' }] }) async pay() { ... }
 */
export function method(options?: MethodOptions): ServiceMethodDecorator {
  checkCalled('@method', options);
  return (...args: unknown[]): void => {
    const m = decorated('@method', ['method'], args);
    recordMethod(m.holder, m.name, options, m.value);
  };
}

/**
 * Sets the key a state field is stored under, and its data triggers:
 * `onUpdate` targets run after a commit that changes the field.
 *
 * @example
 * \@field({ onUpdate: [{ cls: 'Audit', method: 'statusChanged', objectId: 'orders' }] }) status = 'new';
 */
export function field(options?: FieldOptions): StateFieldDecorator {
  checkCalled('@field', options);
  return (...args: unknown[]): void => {
    const m = decorated('@field', ['field'], args);
    recordField(m.holder, m.name, options);
  };
}

/** Excludes a property from the object's persisted state. */
export function transient(): StateFieldDecorator {
  return (...args: unknown[]): void => {
    const m = decorated('@transient', ['field'], args);
    recordTransient(m.holder, m.name);
  };
}

/**
 * Declares a read of one state field, reachable like a method (in process,
 * on refs and over HTTP) without running a method body. The field defaults
 * to the member's name without `get` (`getCount` reads `count`).
 *
 * Put it on a field that declares the call's type: `getName!: ...` works
 * with both decorator flavours; `declare getName: ...` only with
 * `experimentalDecorators`.
 *
 * @example
 * \@getter('profile', { projection: ['name'] }) getName!: () => Promise<{ name: string }>;
 */
export function getter(field?: string, options: GetterOptions = {}): FieldAccessorDecorator {
  checkCalled('@getter', field);
  return (...args: unknown[]): void => {
    const m = decorated('@getter', ['field', 'method'], args);
    recordAccessor(m.holder, m.name, 'getter', field, options.projection);
  };
}

/**
 * Declares a write of one state field (a turn on the object, validated like
 * any write). The field defaults to the member's name without `set`.
 *
 * @example
 * \@setter() setCount!: (count: number) => Promise<void>;
 */
export function setter(field?: string): FieldAccessorDecorator {
  checkCalled('@setter', field);
  return (...args: unknown[]): void => {
    const m = decorated('@setter', ['field', 'method'], args);
    recordAccessor(m.holder, m.name, 'setter', field, undefined);
  };
}
