/**
 * What the Oparaca package manager needs beyond the classes and functions to
 * deploy a package: how each function runs (`provision_config`: the
 * container image that serves `oaas serve --grpc`, its port, HTTP/2 for
 * gRPC) and, optionally, one deployment per class with its ODGM collection.
 * Also the check of a document against the required fields of the
 * platform's package model (`OPackage`, `commons/oprc-models`), so a
 * document the platform would refuse is refused here, naming the field.
 */
import { InvalidArgumentError } from '../errors.js';

/** Options of a document meant for deployment on Oparaca. */
export interface DeployOptions {
  /**
   * The container image whose command runs `oaas serve --grpc --host 0.0.0.0`
   * on these classes: every function's `provision_config.container_image`.
   * @example 'registry.example.com/bank:1.0.0'
   */
  readonly image: string;
  /** The port the image's runtime listens on: `provision_config.port`, and `HTTP_PORT` in each function's `config`. @default 8080 */
  readonly port?: number | undefined;
  /** Adds one `deployments[]` entry per class, with the class's ODGM collection. @default false */
  readonly deployments?: boolean | undefined;
  /** `target_envs` of the deployments. @default none: the platform picks */
  readonly targetEnvs?: readonly string[] | undefined;
  /** `odgm.partition_count` of the deployments. @default the platform's */
  readonly partitions?: number | undefined;
  /** `odgm.replica_count` of the deployments. @default the platform's */
  readonly replicas?: number | undefined;
}

/** How the platform runs a function. */
export interface PackageProvisionConfig {
  readonly container_image: string;
  readonly port: number;
  /** gRPC needs HTTP/2 end to end (Knative and the pod annotations read it). */
  readonly need_http2: true;
}

/** One class deployed, with its objects kept in ODGM. */
export interface PackageDeployment {
  readonly key: string;
  readonly package_name: string;
  readonly class_key: string;
  readonly target_envs?: readonly string[];
  readonly odgm: {
    /** `<package>.<class>`: the class id invocations carry. */
    readonly collections: readonly string[];
    readonly partition_count?: number;
    readonly replica_count?: number;
  };
}

/** @default 8080, what `serveGrpc` listens on without `HTTP_PORT` */
export const DEFAULT_FUNCTION_PORT = 8080;

/** {@link DeployOptions} checked, with their defaults. */
export interface ResolvedDeployOptions {
  readonly image: string;
  readonly port: number;
  readonly deployments: boolean;
  readonly targetEnvs: readonly string[];
  readonly partitions: number | undefined;
  readonly replicas: number | undefined;
}

/** Checks the deploy options (errors name them `deploy.<option>`) and fills in the defaults. */
export function checkDeployOptions(options: unknown): ResolvedDeployOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('deploy', 'expected an object with at least an image');
  const { image, port, deployments, targetEnvs, partitions, replicas } = options as Record<keyof DeployOptions, unknown>;
  if (image === undefined) throw new InvalidArgumentError('deploy.image', 'the container image is required to deploy on Oparaca (functions[].provision_config.container_image)');
  if (typeof image !== 'string' || image === '' || /\s/.test(image)) throw new InvalidArgumentError('deploy.image', `expected a container image reference, got ${JSON.stringify(image)}`);
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new InvalidArgumentError('deploy.port', 'expected an integer from 1 to 65535');
  }
  if (deployments !== undefined && typeof deployments !== 'boolean') throw new InvalidArgumentError('deploy.deployments', 'expected a boolean');
  if (targetEnvs !== undefined && (!Array.isArray(targetEnvs) || targetEnvs.some((env) => typeof env !== 'string' || env === ''))) {
    throw new InvalidArgumentError('deploy.targetEnvs', 'expected an array of environment names');
  }
  for (const [name, value] of [['partitions', partitions], ['replicas', replicas]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)) throw new InvalidArgumentError(`deploy.${name}`, 'expected a positive integer');
  }
  return {
    image,
    port: port ?? DEFAULT_FUNCTION_PORT,
    deployments: deployments ?? false,
    targetEnvs: (targetEnvs as string[] | undefined) ?? [],
    partitions: partitions as number | undefined,
    replicas: replicas as number | undefined,
  };
}

/** The deployment of one class. */
export function deploymentOf(packageName: string, classKey: string, options: ResolvedDeployOptions): PackageDeployment {
  return {
    key: classKey,
    package_name: packageName,
    class_key: classKey,
    ...(options.targetEnvs.length === 0 ? {} : { target_envs: [...options.targetEnvs] }),
    odgm: {
      collections: [`${packageName}.${classKey}`],
      ...(options.partitions === undefined ? {} : { partition_count: options.partitions }),
      ...(options.replicas === undefined ? {} : { replica_count: options.replicas }),
    },
  };
}

/** The parts of a package document the model check reads. */
interface CheckedDocument {
  readonly name: string;
  readonly classes: readonly { readonly key: string; readonly function_bindings: readonly { readonly name: string; readonly function_key: string; readonly access_modifier: string }[] }[];
  readonly functions: readonly { readonly key: string; readonly function_type: string; readonly provision_config?: { readonly container_image?: string; readonly port?: number } | undefined }[];
  readonly deployments?: readonly { readonly key: string; readonly package_name: string; readonly class_key: string }[] | undefined;
}

const ACCESS_MODIFIERS: ReadonlySet<string> = new Set(['PUBLIC', 'INTERNAL', 'PRIVATE']);
const FUNCTION_TYPES: ReadonlySet<string> = new Set(['BUILTIN', 'CUSTOM', 'MACRO', 'LOGICAL', 'WASM']);

/**
 * Checks a document against what the platform's package model and its
 * package manager require: non-empty name (without spaces), class,
 * function, binding and deployment keys; unique class and function keys;
 * bindings that name a function of the package; enum values it knows; a
 * container image wherever a function is provisioned; deployments of a
 * class of this package. Throws `InvalidArgumentError` naming the field.
 */
export function checkOparacaPackage(document: CheckedDocument): void {
  const fail = (field: string, message: string): never => {
    throw new InvalidArgumentError(field, message);
  };
  if (document.name === '' || /\s/.test(document.name)) fail('name', 'the package name must be non-empty and without spaces');
  const classKeys = new Set<string>();
  const functionKeys = new Set(document.functions.map((f) => f.key));
  document.functions.forEach((fn, i) => {
    if (fn.key === '') fail(`functions[${i}].key`, 'a function needs a key');
    if (document.functions.findIndex((other) => other.key === fn.key) !== i) fail(`functions[${i}].key`, `${fn.key} is the key of two functions`);
    if (!FUNCTION_TYPES.has(fn.function_type)) fail(`functions[${i}].function_type`, `${fn.function_type} is not one of ${[...FUNCTION_TYPES].join(', ')}`);
    const provision = fn.provision_config;
    if (provision === undefined) return;
    if (provision.container_image === undefined || provision.container_image === '') fail(`functions[${i}].provision_config.container_image`, 'required to deploy: the image that serves the function');
    if (provision.port !== undefined && (!Number.isInteger(provision.port) || provision.port < 1 || provision.port > 65535)) fail(`functions[${i}].provision_config.port`, 'expected a port from 1 to 65535');
  });
  document.classes.forEach((cls, i) => {
    if (cls.key === '') fail(`classes[${i}].key`, 'a class needs a key');
    if (classKeys.has(cls.key)) fail(`classes[${i}].key`, `${cls.key} is the key of two classes`);
    classKeys.add(cls.key);
    cls.function_bindings.forEach((binding, j) => {
      const at = `classes[${i}].function_bindings[${j}]`;
      if (binding.name === '') fail(`${at}.name`, 'a binding needs a name');
      if (!functionKeys.has(binding.function_key)) fail(`${at}.function_key`, `${JSON.stringify(binding.function_key)} is not the key of a function of the package`);
      if (!ACCESS_MODIFIERS.has(binding.access_modifier)) fail(`${at}.access_modifier`, `${binding.access_modifier} is not one of ${[...ACCESS_MODIFIERS].join(', ')}`);
    });
  });
  document.deployments?.forEach((deployment, i) => {
    if (deployment.key === '') fail(`deployments[${i}].key`, 'a deployment needs a key');
    if (deployment.package_name !== document.name) fail(`deployments[${i}].package_name`, `must be the package's name, ${document.name}`);
    if (!classKeys.has(deployment.class_key)) fail(`deployments[${i}].class_key`, `${JSON.stringify(deployment.class_key)} is not a class of the package`);
  });
}
