/**
 * Turns a class's trigger declarations into targets the runtime can
 * invoke: each class named by id or by a function becomes a registered
 * class id, and each target method is checked to exist (and to be stateless
 * when no object is named). Run when the runtime starts, once every class
 * of the program has registered.
 */
import { describeValue } from '../describe.js';
import { InvalidArgumentError, RegistrationError } from '../errors.js';
import type { ClassMeta } from '../registry/class-meta.js';
import { findClassMeta, findClassMetaById } from '../registry/registry.js';
import type { DataTriggerSpec, FunctionTriggerSpec, TargetSpec } from '../registry/trigger-spec.js';

/** One invocation to make when a trigger fires. */
export interface ResolvedTarget {
  /** A registered class id. */
  readonly clsId: string;
  /** The invocation name of one of its `@method`s. */
  readonly method: string;
  /** `undefined`: a stateless call. */
  readonly objectId: string | undefined;
  /** `undefined`: the source object's partition. */
  readonly partitionId: number | undefined;
}

/** Data triggers by the kind of change they fire on. */
export interface ResolvedDataTriggers {
  readonly create: readonly ResolvedTarget[];
  readonly update: readonly ResolvedTarget[];
  readonly delete: readonly ResolvedTarget[];
}

/** The data triggers of one field. */
export interface ResolvedFieldTriggers extends ResolvedDataTriggers {
  /** The property. */
  readonly field: string;
  /** The entry key it is stored under: what a commit's changed keys name. */
  readonly key: string;
}

/** Function triggers by the outcome of the call. */
export interface ResolvedFunctionTriggers {
  readonly complete: readonly ResolvedTarget[];
  readonly error: readonly ResolvedTarget[];
}

/** Every trigger of one class, its targets resolved. */
export interface ResolvedTriggers {
  readonly clsId: string;
  /** Declared on the class (`@service`). */
  readonly data: ResolvedDataTriggers;
  /** Declared on fields (`@field`), in declaration order. */
  readonly fields: readonly ResolvedFieldTriggers[];
  /** Declared on methods (`@method`), by invocation name. */
  readonly functions: ReadonlyMap<string, ResolvedFunctionTriggers>;
}

/** The SDK's own classes are not reachable by callers, so not by triggers either. */
const INTERNAL_PACKAGE = 'oaas';

function targetClass(source: ClassMeta, cls: TargetSpec['cls'], at: string): ClassMeta {
  if (typeof cls === 'string') {
    const clsId = cls.includes('.') ? cls : `${source.pkg}.${cls}`;
    const meta = findClassMetaById(clsId);
    if (meta === undefined) {
      const bare = cls.includes('.') ? '' : ` (a bare name is looked up in the package ${source.pkg})`;
      throw new RegistrationError(`${at}: unknown class ${clsId}${bare}`);
    }
    return meta;
  }
  let ctor: unknown;
  try {
    ctor = cls();
  } catch (error) {
    throw new RegistrationError(`${at}.cls: the function naming the class threw: ${(error as Error).message}`, { cause: error });
  }
  const meta = findClassMeta(ctor);
  if (meta === undefined) {
    const what = typeof ctor === 'function' ? `class ${ctor.name}` : describeValue(ctor);
    throw new RegistrationError(`${at}.cls: the function returned ${what}, which is not a registered @service class`);
  }
  return meta;
}

function resolveTarget(source: ClassMeta, spec: TargetSpec, at: string): ResolvedTarget {
  const target = targetClass(source, spec.cls, at);
  if (target.pkg === INTERNAL_PACKAGE) throw new RegistrationError(`${at}: ${target.clsId} is an internal class of the SDK`);
  const method = target.methodsByName.get(spec.method);
  if (method === undefined) {
    const accessor = target.accessors.get(spec.method);
    const what = accessor === undefined ? `has no @method ${spec.method}` : `has ${spec.method} as a @${accessor.kind}, not a @method`;
    throw new RegistrationError(`${at}: class ${target.clsId} ${what}`);
  }
  // Triggers are delivered as invocations, and `_` names are never invoked from outside.
  if (method.name.startsWith('_')) throw new RegistrationError(`${at}: ${target.clsId}.${method.name} is private (its name starts with _)`);
  if (spec.objectId === undefined && !method.stateless) {
    throw new RegistrationError(`${at}: ${target.clsId}.${method.name} is not stateless; name the object it runs on with objectId, or declare it @method({ stateless: true })`);
  }
  return { clsId: target.clsId, method: method.name, objectId: spec.objectId, partitionId: spec.partitionId };
}

function resolveData(source: ClassMeta, spec: DataTriggerSpec | undefined, where: string): ResolvedDataTriggers {
  const list = (targets: readonly TargetSpec[] | undefined, name: string): ResolvedTarget[] =>
    (targets ?? []).map((target, i) => resolveTarget(source, target, `${where}: ${name}[${i}]`));
  return { create: list(spec?.onCreate, 'onCreate'), update: list(spec?.onUpdate, 'onUpdate'), delete: list(spec?.onDelete, 'onDelete') };
}

function resolveFunction(source: ClassMeta, spec: FunctionTriggerSpec, where: string): ResolvedFunctionTriggers {
  const list = (targets: readonly TargetSpec[], name: string): ResolvedTarget[] => targets.map((target, i) => resolveTarget(source, target, `${where}: ${name}[${i}]`));
  return { complete: list(spec.onComplete, 'onComplete'), error: list(spec.onError, 'onError') };
}

/**
 * Resolves every trigger of a registered class. Throws `RegistrationError`
 * naming the class, the member and the target when a target class is
 * unknown (or its function throws or returns something else), its method
 * does not exist, is private, or is not stateless while no `objectId` is
 * given; `InvalidArgumentError` when `meta` is not a registered class's.
 */
export function resolveTriggers(meta: ClassMeta): ResolvedTriggers {
  const clsId = (meta as Partial<ClassMeta> | null | undefined)?.clsId;
  if (typeof clsId !== 'string' || findClassMetaById(clsId) !== meta) throw new InvalidArgumentError('meta', 'expected the metadata of a registered @service class');
  const where = `service ${clsId}`;
  const fields = [...meta.triggers.fields].map(([field, spec]) => ({
    field,
    key: meta.fieldKeys.get(field) ?? field,
    ...resolveData(meta, spec, `${where}, @field ${field}`),
  }));
  const functions = new Map<string, ResolvedFunctionTriggers>();
  for (const [name, spec] of meta.triggers.functions) {
    functions.set(name, resolveFunction(meta, spec, `${where}, @method ${meta.methodsByName.get(name)?.propertyKey ?? name}`));
  }
  return { clsId, data: resolveData(meta, meta.triggers.data, where), fields, functions };
}
