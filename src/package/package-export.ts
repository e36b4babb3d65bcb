/**
 * The OaaS package document: what a platform needs to know about the
 * registered services (classes, their state keys, their functions), as YAML
 * or JSON. Built from the registry alone; nothing here touches a runtime.
 */
import 'reflect-metadata';
import { stringify } from 'yaml';
import { InvalidArgumentError, RegistrationError } from '../errors.js';
import { ObjectRef, isRefConvertible } from '../object/object-ref.js';
import { rawOf } from '../object/raw.js';
import { stateFieldsOf } from '../object/state-fields.js';
import { OAAS_OBJECT_BRAND, PACKAGE_PATTERN, type ClassMeta, type MethodMeta } from '../registry/class-meta.js';
import { findClassMeta, registeredClasses } from '../registry/registry.js';
import { eventOf, isPrivateName, type PackageEvent } from './package-event.js';
import { checkDeployOptions, checkOparacaPackage, deploymentOf, type DeployOptions, type PackageDeployment, type PackageProvisionConfig } from './oparaca-deploy.js';

export type { DeployOptions, PackageDeployment, PackageProvisionConfig };
export { CLASS_TRIGGER_KEY, type PackageDataTrigger, type PackageEvent, type PackageFuncTrigger, type PackageTriggerTarget } from './package-event.js';

/** The kind of value a state key holds. */
export type PackageKeyType = 'number' | 'string' | 'boolean' | 'array' | 'object' | 'bytes' | 'date' | 'map' | 'set' | 'bigint' | 'ref' | 'any';

/** One state field of a class: its stored key and the kind of value it holds. */
export interface PackageKeySpec {
  readonly name: string;
  readonly key_type: PackageKeyType;
}

/** One `@method` of a class, bound to a function of the package. */
export interface PackageFunctionBinding {
  /** The invocation name. */
  readonly name: string;
  /** `<ClassName>.<method name>`: the key of the bound entry in `functions`. */
  readonly function_key: string;
  readonly access_modifier: 'PUBLIC';
  readonly stateless: boolean;
  /** One type name per declared parameter (see {@link buildPackageDocument}). */
  readonly parameters: readonly string[];
}

/** One service class. */
export interface PackageClass {
  /** The class name (`@service` name). */
  readonly key: string;
  /** Present when `@service` was given one. */
  readonly description?: string;
  readonly state_spec: { readonly key_specs: readonly PackageKeySpec[] };
  readonly function_bindings: readonly PackageFunctionBinding[];
  /** Present when the class declares triggers. */
  readonly event?: PackageEvent;
}

/** One function: every `@method` of every class is one. */
export interface PackageFunction {
  /** `<ClassName>.<method name>` */
  readonly key: string;
  readonly function_type: 'CUSTOM';
  readonly description: string;
  /** With `deploy`: how the platform runs the function (the image serving `oaas serve --grpc`). */
  readonly provision_config?: PackageProvisionConfig;
  /**
   * Environment variables the platform sets in the function's container:
   * empty, or with `deploy`, `HTTP_PORT` (the port of `provision_config`, where the runtime listens).
   */
  readonly config: Readonly<Record<string, string>>;
}

/** Package-level metadata. */
export interface PackageMetadata {
  /** Present when a description was given. */
  readonly description?: string;
}

/** The whole document. */
export interface PackageDocument {
  readonly name: string;
  readonly version: string;
  readonly metadata: PackageMetadata;
  readonly classes: readonly PackageClass[];
  readonly functions: readonly PackageFunction[];
  /** With `deploy.deployments`: one per class. */
  readonly deployments?: readonly PackageDeployment[];
}

/** Options of {@link buildPackageDocument}. */
export interface PackageDocumentOptions {
  /** Package name. @default the `package` every exported class shares (an error when they do not share one) */
  readonly name?: string | undefined;
  /**
   * Package version. Not read from a `package.json`: the service package and
   * the npm package are versioned separately, and output must not depend on
   * the working directory. @default '0.1.0'
   */
  readonly version?: string | undefined;
  /** Becomes `metadata.description`. */
  readonly description?: string | undefined;
  /**
   * The `@service` classes to export, in this order (a class listed twice is
   * exported once). @default every registered class except the SDK's internal
   * package `oaas`, in registration order
   */
  readonly classes?: readonly (abstract new () => object)[] | undefined;
  /**
   * Makes the document deployable on Oparaca: each function gets a
   * `provision_config` (the image, its port, HTTP/2 for gRPC) and
   * `HTTP_PORT` in its `config`; with `deployments`, one deployment per
   * class is added. The package name must then be the classes' `@service`
   * package, since invocations name classes `<package>.<class>`.
   * @default none: the document describes the classes and functions only
   */
  readonly deploy?: DeployOptions | undefined;
}

/** Options of {@link exportPackage}. */
export interface ExportPackageOptions extends PackageDocumentOptions {
  /** @default 'yaml' */
  readonly format?: 'yaml' | 'json' | undefined;
}

const DEFAULT_VERSION = '0.1.0';
/** The package of the SDK's own classes (idempotency records); never exported by default. */
export const INTERNAL_PACKAGE = 'oaas';

/**
 * Maps a constructor, as `design:type` / `design:paramtypes` record it, to a
 * key type. `Object` (what TypeScript emits for `any`, `unknown`, unions and
 * interfaces), `Function`, `Promise`, `void` and missing metadata are `'any'`.
 */
function typeOfDesignType(type: unknown): PackageKeyType {
  if (typeof type !== 'function') return 'any';
  switch (type) {
    case Number: return 'number';
    case String: return 'string';
    case Boolean: return 'boolean';
    case BigInt: return 'bigint';
    case Array: return 'array';
    case Date: return 'date';
    case Map: return 'map';
    case Set: return 'set';
    case Object:
    case Function:
    case Promise:
      return 'any';
    default:
      break;
  }
  const prototype: unknown = type.prototype;
  if (prototype instanceof Uint8Array || type === Uint8Array) return 'bytes';
  // A service class or a ref travels as a ref.
  if (type === ObjectRef || (typeof prototype === 'object' && prototype !== null && OAAS_OBJECT_BRAND in prototype)) return 'ref';
  // Another class: its instances cross the wire (and are stored) as plain objects.
  return 'object';
}

/** The key type of a default value, or `undefined` when the value says nothing (`null`, `undefined`). */
function typeOfValue(value: unknown): PackageKeyType | undefined {
  switch (typeof value) {
    case 'number': return 'number';
    case 'string': return 'string';
    case 'boolean': return 'boolean';
    case 'bigint': return 'bigint';
    case 'object': break;
    default: return undefined;
  }
  if (value === null) return undefined;
  const raw = rawOf(value);
  if (raw instanceof ObjectRef || isRefConvertible(raw)) return 'ref';
  if (Array.isArray(raw)) return 'array';
  if (raw instanceof Uint8Array) return 'bytes';
  if (raw instanceof Date) return 'date';
  if (raw instanceof Map) return 'map';
  if (raw instanceof Set) return 'set';
  return 'object';
}

/**
 * The state keys of a class, read off a detached instance (constructed with
 * no arguments, never attached to a runtime): the default value decides the
 * type; a `null`/`undefined` default falls back to the property's
 * `design:type` (emitted only for decorated properties, e.g. `@field()`),
 * then to `'any'`.
 */
function keySpecsOf(meta: ClassMeta): PackageKeySpec[] {
  let instance: Record<string, unknown>;
  try {
    instance = rawOf(new (meta.ctor as new () => object)()) as Record<string, unknown>;
  } catch (error) {
    throw new RegistrationError(`${meta.clsId}: the constructor must work with no arguments (${(error as Error).message})`, { cause: error });
  }
  const fields = stateFieldsOf(meta, instance);
  const prototype = meta.ctor.prototype as object;
  return fields.props.map((prop) => ({
    name: fields.keyOf(prop),
    key_type: typeOfValue(instance[prop]) ?? typeOfDesignType(Reflect.getMetadata('design:type', prototype, prop)),
  }));
}

/**
 * One type name per declared parameter: from `design:paramtypes` when the
 * compiler emitted it (tsc and swc do; esbuild, and so tsx, does not), else `'any'`.
 */
function parametersOf(method: MethodMeta): string[] {
  return Array.from({ length: method.arity }, (_, i) => typeOfDesignType(method.paramTypes?.[i]));
}

function functionKey(meta: ClassMeta, method: MethodMeta): string {
  return `${meta.name}.${method.name}`;
}

function checkString(value: unknown, argument: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(argument, 'expected a non-empty string');
  return value;
}

function selectClasses(classes: unknown): ClassMeta[] {
  if (classes === undefined) return registeredClasses().filter((meta) => meta.pkg !== INTERNAL_PACKAGE);
  if (!Array.isArray(classes)) throw new InvalidArgumentError('classes', 'expected an array of @service classes');
  const selected = new Set<ClassMeta>();
  for (const ctor of classes as unknown[]) {
    const meta = findClassMeta(ctor);
    if (meta === undefined) {
      const name = typeof ctor === 'function' ? ctor.name : typeof ctor;
      throw new InvalidArgumentError('classes', `${name} is not a registered @service class`);
    }
    selected.add(meta);
  }
  return [...selected];
}

function packageNameOf(metas: readonly ClassMeta[], name: string | undefined): string {
  if (name !== undefined) {
    if (!PACKAGE_PATTERN.test(name)) throw new InvalidArgumentError('name', `${JSON.stringify(name)} must match ${PACKAGE_PATTERN.source}`);
    return name;
  }
  const packages = [...new Set(metas.map((meta) => meta.pkg))];
  if (packages.length > 1) {
    throw new InvalidArgumentError('name', `the classes belong to several packages (${packages.join(', ')}); pass a package name for the document`);
  }
  return packages[0]!;
}

/**
 * Builds the package document of the registered services (see
 * {@link exportPackage} for the text form). Methods whose invocation name
 * starts with `_` are left out: the server never invokes them. Classes keep their order; so do
 * their state fields (construction order) and methods (declaration order,
 * inherited first), so the same code always gives the same document.
 *
 * Throws `InvalidArgumentError` for bad options, no classes, or classes of
 * several packages without a `name`; `RegistrationError` when two classes
 * share a name (class keys are names, without the package) or two functions a key.
 */
export function buildPackageDocument(options: PackageDocumentOptions = {}): PackageDocument {
  if (typeof options !== 'object' || (options as unknown) === null) throw new InvalidArgumentError('options', 'expected an object');
  const metas = selectClasses(options.classes);
  if (metas.length === 0) {
    throw new InvalidArgumentError('classes', 'no service classes to export: register some with @service (from the same oaas-sdk installation) first');
  }
  const name = packageNameOf(metas, checkString(options.name, 'name'));
  const version = checkString(options.version, 'version') ?? DEFAULT_VERSION;
  const description = checkString(options.description, 'description');
  const deploy = options.deploy === undefined ? undefined : checkDeployOptions(options.deploy);
  if (deploy !== undefined) {
    const other = metas.find((meta) => meta.pkg !== name);
    if (other !== undefined) {
      throw new InvalidArgumentError('name', `to deploy, the package must be named after the classes' package: the platform would invoke ${name}.${other.name}, which is ${other.clsId} here`);
    }
  }
  // A function of each: no two functions share an object a caller might edit.
  const provisioned = () => (deploy === undefined ? {} : { provision_config: { container_image: deploy.image, port: deploy.port, need_http2: true } as const });
  const config = (): Record<string, string> => (deploy === undefined ? {} : { HTTP_PORT: String(deploy.port) });

  const classOf = new Map<string, ClassMeta>();
  const functionOwner = new Map<string, ClassMeta>();
  const classes: PackageClass[] = [];
  const functions: PackageFunction[] = [];
  for (const meta of metas) {
    const other = classOf.get(meta.name);
    if (other !== undefined) throw new RegistrationError(`package ${name}: classes ${other.clsId} and ${meta.clsId} both have the key ${meta.name}`);
    classOf.set(meta.name, meta);
    const bindings: PackageFunctionBinding[] = [];
    for (const method of meta.methods.values()) {
      // The gateway never invokes `_` names (it answers 404): a platform must not be told they are callable.
      if (isPrivateName(method.name)) continue;
      const key = functionKey(meta, method);
      const owner = functionOwner.get(key);
      if (owner !== undefined) throw new RegistrationError(`package ${name}: ${owner.clsId} and ${meta.clsId} both define the function ${key}`);
      functionOwner.set(key, meta);
      bindings.push({ name: method.name, function_key: key, access_modifier: 'PUBLIC', stateless: method.stateless, parameters: parametersOf(method) });
      functions.push({ key, function_type: 'CUSTOM', description: `${key} of ${meta.pkg}`, ...provisioned(), config: config() });
    }
    const event = eventOf(meta);
    classes.push({
      key: meta.name,
      ...(meta.description === undefined ? {} : { description: meta.description }),
      state_spec: { key_specs: keySpecsOf(meta) },
      function_bindings: bindings,
      ...(event === undefined ? {} : { event }),
    });
  }
  const document: PackageDocument = {
    name,
    version,
    metadata: description === undefined ? {} : { description },
    classes,
    functions,
    ...(deploy?.deployments === true ? { deployments: classes.map((cls) => deploymentOf(name, cls.key, deploy)) } : {}),
  };
  checkOparacaPackage(document);
  return document;
}

/**
 * The package document as text: YAML (the default) or pretty-printed JSON,
 * each ending with a newline.
 *
 * @example
 * writeFileSync('package.yml', exportPackage({ version: '1.2.0' }));
 */
export function exportPackage(options: ExportPackageOptions = {}): string {
  const format = (options as { format?: unknown } | null)?.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new InvalidArgumentError('format', `expected 'yaml' or 'json', got ${JSON.stringify(format)}`);
  const document = buildPackageDocument(options);
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  // No anchors/aliases: a reader should see every entry in full. Long descriptions stay on one line.
  return stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}
