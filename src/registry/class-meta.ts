/**
 * What the decorators record: plain data about a service class and its
 * members. The core reads it; nothing here runs application code.
 */
import type { ClassTriggerSpecs, DataTriggerOptions, FunctionTriggerOptions } from './trigger-spec.js';
import type { StandardSchemaV1 } from './standard-schema.js';

/**
 * Options of `@service`. `onCreate`, `onUpdate` and `onDelete` are the
 * class's data triggers (see docs/triggers.md).
 */
export interface ServiceOptions extends DataTriggerOptions {
  /** Package the class belongs to; the class id is `<package>.<name>`. @default 'default' */
  readonly package?: string | undefined;
  /** Shown in the exported package description. */
  readonly description?: string | undefined;
}

/** Options of `@method`. `onComplete` and `onError` are its function triggers (see docs/triggers.md). */
export interface MethodOptions extends FunctionTriggerOptions {
  /** The name callers invoke it by. @default the property name */
  readonly name?: string | undefined;
  /** A stateless method does not read or write its object's state and takes no turn. @default false */
  readonly stateless?: boolean | undefined;
  /** Rejects the call with `InvocationTimeoutError` (and rolls it back) after this long. @default no limit */
  readonly timeoutMs?: number | undefined;
  /** How many more times a failing call is run again, each after its rollback. @default 0 */
  readonly retries?: number | undefined;
  /** Pause between those runs. @default 0 */
  readonly retryDelayMs?: number | undefined;
  /**
   * Standard Schemas (zod, valibot, arktype, ...) the arguments must pass:
   * one per declared parameter, or one for the whole argument list (it gets
   * the array of arguments and must give an array). Remote calls are always
   * checked; the method receives the schemas' output. Replaces the checks
   * inferred from design types and literal defaults.
   * @default none
   * @example
   * \@method({ params: [z.number().int().positive()] }) async increment(by = 1) { ... }
   */
  readonly params?: readonly StandardSchemaV1[] | StandardSchemaV1 | undefined;
  /** Checks in-process calls too, the same way (costs a validation per call). @default false */
  readonly validateLocal?: boolean | undefined;
}

/**
 * Options of `@field`. `onCreate`, `onUpdate` and `onDelete` are data
 * triggers of the field: `onUpdate` fires when a commit changes it (see docs/triggers.md).
 */
export interface FieldOptions extends DataTriggerOptions {
  /** The entry key the field is stored under. @default the property name */
  readonly key?: string | undefined;
}

/** Options of `@getter`. */
export interface GetterOptions {
  /** For an object-valued field: the keys to return (the rest stays on the server). */
  readonly projection?: readonly string[] | undefined;
}

/** A registered `@getter` or `@setter`: reads or writes one state field without running a method body. */
export interface AccessorMeta {
  readonly kind: 'getter' | 'setter';
  /** The invocation name (the decorated property's name). */
  readonly name: string;
  /** The state field it reads or writes. */
  readonly field: string;
  readonly projection: readonly string[] | undefined;
}

/** A parameter as the function's source declares it. */
export interface DeclaredParameter {
  /** Its name; `undefined` for a destructuring pattern. */
  readonly name: string | undefined;
  /** The type of its default when that is a number, string or boolean literal (`by = 1`: `'number'`). */
  readonly literal: 'number' | 'string' | 'boolean' | undefined;
}

/** `@method({ params })` as recorded: a schema per parameter, or one for the argument list. */
export type ParamSchemas =
  | { readonly kind: 'each'; readonly schemas: readonly StandardSchemaV1[] }
  | { readonly kind: 'list'; readonly schema: StandardSchemaV1 };

/** A registered `@method`. */
export interface MethodMeta {
  /** The invocation name. */
  readonly name: string;
  /** The property that holds the function on the prototype. */
  readonly propertyKey: string;
  readonly stateless: boolean;
  readonly timeoutMs: number | undefined;
  readonly retries: number;
  readonly retryDelayMs: number;
  /** Declared parameter types, when the compiler emitted decorator metadata. */
  readonly paramTypes: readonly unknown[] | undefined;
  /** An `async *` method: calls return an async iterator whose values stream to the caller. */
  readonly streaming: boolean;
  /** How many arguments the method takes: a remote payload with more than one is a JSON array. */
  readonly arity: number;
  /** One entry per declared parameter (`arity` of them). */
  readonly parameters: readonly DeclaredParameter[];
  readonly params: ParamSchemas | undefined;
  /** In-process calls are checked like remote ones. */
  readonly validateLocal: boolean;
}

/** A registered service class. */
export interface ClassMeta {
  /** `<package>.<name>` */
  readonly clsId: string;
  readonly name: string;
  readonly pkg: string;
  readonly description: string | undefined;
  readonly ctor: abstract new () => object;
  /** Keyed by property name. */
  readonly methods: ReadonlyMap<string, MethodMeta>;
  /** Keyed by invocation name. */
  readonly methodsByName: ReadonlyMap<string, MethodMeta>;
  /** `@getter`s and `@setter`s, keyed by name (they are reached like methods but are not exported as functions). */
  readonly accessors: ReadonlyMap<string, AccessorMeta>;
  /** Property name -> stored key, for fields with `@field({ key })`. */
  readonly fieldKeys: ReadonlyMap<string, string>;
  /** Properties marked `@transient()`. */
  readonly transient: ReadonlySet<string>;
  /** The triggers declared on the class, its fields and its methods, shapes checked; targets are resolved when the runtime starts. */
  readonly triggers: ClassTriggerSpecs;
}

/** Set on `OaasObject.prototype`, so the registry can check the base class without importing it. */
export const OAAS_OBJECT_BRAND: unique symbol = Symbol.for('oaas.object');

export { NAME_PATTERN, PACKAGE_PATTERN } from './names.js';
