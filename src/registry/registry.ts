import 'reflect-metadata';
import { describeValue } from '../describe.js';
import { RegistrationError } from '../errors.js';
import { checkDataTriggers, checkFunctionTriggers, type ClassTriggerSpecs, type DataTriggerSpec, type FunctionTriggerSpec } from './trigger-spec.js';
import {
  NAME_PATTERN,
  OAAS_OBJECT_BRAND,
  PACKAGE_PATTERN,
  type AccessorMeta,
  type ClassMeta,
  type FieldOptions,
  type MethodMeta,
  type MethodOptions,
  type ServiceOptions,
} from './class-meta.js';
import { argumentOptions } from './param-schema.js';
import { declaredParameters } from './parameters.js';

/**
 * The process-wide class registry. It outlives runtimes: reconfiguring the
 * SDK keeps every registered class.
 */
const byId = new Map<string, ClassMeta>();
const byCtor = new WeakMap<object, ClassMeta>();

const METHODS_KEY = 'oaas:methods';
const FIELDS_KEY = 'oaas:fields';
const TRANSIENT_KEY = 'oaas:transient';
const ACCESSORS_KEY = 'oaas:accessors';
// The options of each `@method` and `@field`, whose triggers are checked when the class registers (naming it).
const METHOD_TRIGGERS_KEY = 'oaas:method-triggers';
const FIELD_TRIGGERS_KEY = 'oaas:field-triggers';

type MemberDrafts<T> = Map<string, T>;

/**
 * Decorators record drafts on a holder: the prototype under
 * `experimentalDecorators`, the class's decorator metadata object
 * (`context.metadata`) under standard decorators, which give members no
 * prototype. `registerClass` reads both, level by level.
 */
function ownDrafts<T>(key: string, holder: object): MemberDrafts<T> {
  let drafts = Reflect.getOwnMetadata(key, holder) as MemberDrafts<T> | undefined;
  if (drafts === undefined) {
    drafts = new Map();
    Reflect.defineMetadata(key, drafts, holder);
  }
  return drafts;
}

/** The standard decorator metadata a class defined for itself (not inherited). */
function ownDecoratorMetadata(ctor: unknown): object | undefined {
  const symbol = (Symbol as { metadata?: symbol }).metadata;
  if (symbol === undefined || typeof ctor !== 'function' || !Object.hasOwn(ctor, symbol)) return undefined;
  const metadata: unknown = (ctor as unknown as Record<symbol, unknown>)[symbol];
  return typeof metadata === 'object' && metadata !== null ? metadata : undefined;
}

/**
 * The holders of a class and its ancestors, root first: each level's
 * prototype and, for classes with standard decorators, its metadata. The
 * class being decorated has not received its metadata yet, so `@service`
 * passes it.
 */
function draftHolders(prototype: object, metadata: object | undefined): object[] {
  const holders: object[] = [];
  for (let p: object | null = prototype; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    const own = p === prototype && metadata !== undefined ? metadata : ownDecoratorMetadata(Object.getOwnPropertyDescriptor(p, 'constructor')?.value);
    holders.unshift(...(own === undefined ? [p] : [p, own]));
  }
  return holders;
}

/** Drafts of this class and its ancestors, nearest last so that overrides win. */
function inheritedDrafts<T>(key: string, holders: readonly object[]): Map<string, T> {
  const out = new Map<string, T>();
  for (const holder of holders) {
    const drafts = Reflect.getOwnMetadata(key, holder) as MemberDrafts<T> | undefined;
    if (drafts !== undefined) for (const [k, v] of drafts) out.set(k, v);
  }
  return out;
}

function checkNonNegativeInt(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RegistrationError(`${what} must be a non-negative integer, got ${describeValue(value)}`);
  }
  return value;
}

/** How many parameters a function declares, defaults included, read from its source (see `declaredParameters`). */
export function declaredParameterCount(fn: (...args: never[]) => unknown): number {
  return declaredParameters(fn).length;
}

/** Records a `@method` on a draft holder (a prototype, or standard decorator metadata with the function passed). */
export function recordMethod(
  holder: object,
  propertyKey: string,
  options: MethodOptions = {},
  fn: unknown = (holder as Record<string, unknown>)[propertyKey],
): void {
  if (typeof options !== 'object' || options === null) throw new RegistrationError(`@method options for ${propertyKey} must be an object`);
  if (typeof fn !== 'function') throw new RegistrationError(`@method can only decorate methods; ${propertyKey} is not a function`);
  const name = options.name ?? propertyKey;
  if (!NAME_PATTERN.test(name)) throw new RegistrationError(`method name ${JSON.stringify(name)} must match ${NAME_PATTERN.source}`);
  if (options.timeoutMs !== undefined && (checkNonNegativeInt(options.timeoutMs, `${propertyKey}: timeoutMs`) ?? 0) === 0) {
    throw new RegistrationError(`${propertyKey}: timeoutMs must be greater than 0`);
  }
  // Only `experimentalDecorators` with `emitDecoratorMetadata` record design types (on the prototype).
  const paramTypes = Reflect.getMetadata('design:paramtypes', holder, propertyKey) as unknown[] | undefined;
  const parameters = declaredParameters(fn as (...args: never[]) => unknown);
  const meta: MethodMeta = {
    name,
    propertyKey,
    stateless: options.stateless === true,
    timeoutMs: options.timeoutMs,
    retries: checkNonNegativeInt(options.retries, `${propertyKey}: retries`) ?? 0,
    retryDelayMs: checkNonNegativeInt(options.retryDelayMs, `${propertyKey}: retryDelayMs`) ?? 0,
    paramTypes,
    streaming: Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]',
    arity: parameters.length,
    parameters,
    ...argumentOptions(options, parameters, propertyKey),
  };
  ownDrafts<MethodMeta>(METHODS_KEY, holder).set(propertyKey, meta);
  // Set even without triggers: an override declared again with `@method` drops the inherited ones.
  ownDrafts<MethodOptions>(METHOD_TRIGGERS_KEY, holder).set(propertyKey, options);
}

/** The field an accessor named like `getCount` / `setCount` reads or writes: `count`. */
function fieldFromName(propertyKey: string): string {
  const bare = propertyKey.replace(/^(get|set)(?=[A-Z_])/, '');
  return bare.charAt(0).toLowerCase() + bare.slice(1);
}

/** Records a `@getter` or `@setter` on a draft holder. */
export function recordAccessor(
  holder: object,
  propertyKey: string,
  kind: AccessorMeta['kind'],
  field: string | undefined,
  projection: readonly string[] | undefined,
): void {
  if (!NAME_PATTERN.test(propertyKey)) throw new RegistrationError(`accessor name ${JSON.stringify(propertyKey)} must match ${NAME_PATTERN.source}`);
  if (field !== undefined && (typeof field !== 'string' || field === '')) throw new RegistrationError(`@${kind} on ${propertyKey}: field must be a non-empty string`);
  if (projection !== undefined && (!Array.isArray(projection) || projection.some((p) => typeof p !== 'string' || p === ''))) {
    throw new RegistrationError(`@getter on ${propertyKey}: projection must be an array of field names`);
  }
  const meta: AccessorMeta = { kind, name: propertyKey, field: field ?? fieldFromName(propertyKey), projection: projection === undefined ? undefined : Array.from(projection as readonly string[]) };
  ownDrafts<AccessorMeta>(ACCESSORS_KEY, holder).set(propertyKey, meta);
}

/** Records a `@field` on a draft holder. */
export function recordField(holder: object, propertyKey: string, options: FieldOptions = {}): void {
  const key = options.key ?? propertyKey;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new RegistrationError(`@field key for ${propertyKey} must be a non-empty string of at most 200 characters`);
  }
  ownDrafts<string>(FIELDS_KEY, holder).set(propertyKey, key);
  ownDrafts<FieldOptions>(FIELD_TRIGGERS_KEY, holder).set(propertyKey, options);
}

/** Records a `@transient()` on a draft holder. */
export function recordTransient(holder: object, propertyKey: string): void {
  ownDrafts<true>(TRANSIENT_KEY, holder).set(propertyKey, true);
}

/**
 * Registers a class as a service. Registering the same class twice is a
 * no-op; a different class under a taken id is a {@link RegistrationError}.
 * `metadata` is the class's standard decorator metadata, when a standard
 * `@service` registers it before the class has received it.
 */
export function registerClass(ctor: abstract new () => object, name: string, options: ServiceOptions = {}, metadata?: object): ClassMeta {
  if (typeof ctor !== 'function') throw new RegistrationError('@service must decorate a class');
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new RegistrationError(`service name ${JSON.stringify(name)} must match ${NAME_PATTERN.source}`);
  }
  if (typeof options !== 'object' || options === null) throw new RegistrationError(`service ${name}: options must be an object`);
  const pkg = options.package ?? 'default';
  if (typeof pkg !== 'string' || !PACKAGE_PATTERN.test(pkg)) {
    throw new RegistrationError(`service ${name}: package ${JSON.stringify(pkg)} must match ${PACKAGE_PATTERN.source}`);
  }
  const prototype = ctor.prototype as Record<symbol, unknown> | undefined;
  if (prototype?.[OAAS_OBJECT_BRAND] !== true) {
    throw new RegistrationError(`service ${name}: class ${ctor.name} must extend OaasObject`);
  }
  const clsId = `${pkg}.${name}`;
  const existing = byId.get(clsId);
  if (existing !== undefined) {
    if (existing.ctor === ctor) return existing;
    throw new RegistrationError(`class id ${clsId} is already registered by class ${existing.ctor.name}`);
  }
  const previous = byCtor.get(ctor);
  if (previous !== undefined) throw new RegistrationError(`class ${ctor.name} is already registered as ${previous.clsId}`);

  const holders = draftHolders(prototype, metadata);
  const methods = inheritedDrafts<MethodMeta>(METHODS_KEY, holders);
  const methodsByName = new Map<string, MethodMeta>();
  for (const m of methods.values()) {
    if (methodsByName.has(m.name)) throw new RegistrationError(`service ${clsId}: two methods are named ${m.name}`);
    methodsByName.set(m.name, m);
  }
  const accessors = inheritedDrafts<AccessorMeta>(ACCESSORS_KEY, holders);
  for (const name of accessors.keys()) {
    if (methodsByName.has(name)) throw new RegistrationError(`service ${clsId}: ${name} is both a method and an accessor`);
  }
  const transient = new Set(inheritedDrafts<true>(TRANSIENT_KEY, holders).keys());
  const meta: ClassMeta = {
    clsId,
    accessors,
    name,
    pkg,
    description: options.description,
    ctor,
    methods,
    methodsByName,
    fieldKeys: inheritedDrafts<string>(FIELDS_KEY, holders),
    transient,
    triggers: triggersOf(clsId, options, methods, holders, transient),
  };
  byId.set(clsId, meta);
  byCtor.set(ctor, meta);
  return meta;
}

/** The triggers of a class being registered, their shapes checked (each message names the class and the member). */
function triggersOf(
  clsId: string,
  options: ServiceOptions,
  methods: ReadonlyMap<string, MethodMeta>,
  holders: readonly object[],
  transient: ReadonlySet<string>,
): ClassTriggerSpecs {
  const fields = new Map<string, DataTriggerSpec>();
  for (const [prop, fieldOptions] of inheritedDrafts<FieldOptions>(FIELD_TRIGGERS_KEY, holders)) {
    const where = `service ${clsId}, @field ${prop}`;
    const spec = checkDataTriggers(fieldOptions, where);
    if (spec === undefined) continue;
    // Such a field is never stored, so no commit would ever change it.
    if (prop.startsWith('_') || transient.has(prop)) throw new RegistrationError(`${where}: a field that is not stored (transient or _-prefixed) cannot have data triggers`);
    fields.set(prop, spec);
  }
  const methodOptions = inheritedDrafts<MethodOptions>(METHOD_TRIGGERS_KEY, holders);
  const functions = new Map<string, FunctionTriggerSpec>();
  for (const [prop, method] of methods) {
    const spec = checkFunctionTriggers(methodOptions.get(prop) ?? {}, `service ${clsId}, @method ${prop}`);
    if (spec !== undefined) functions.set(method.name, spec);
  }
  return { data: checkDataTriggers(options, `service ${clsId}`), fields, functions };
}

/** The metadata of a registered class, or `undefined`. */
export function findClassMeta(ctor: unknown): ClassMeta | undefined {
  return typeof ctor === 'function' ? byCtor.get(ctor) : undefined;
}

/** The metadata of a registered class id, or `undefined`. */
export function findClassMetaById(clsId: string): ClassMeta | undefined {
  return byId.get(clsId);
}

/** Every registered class, in registration order. */
export function registeredClasses(): readonly ClassMeta[] {
  return [...byId.values()];
}
