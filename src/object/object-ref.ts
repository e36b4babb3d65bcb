import { ConfigurationError, InvalidArgumentError, type ObjectIdentity } from '../errors.js';
import { normalizeObjectId, normalizePartitionId } from '../identity.js';

/**
 * How an {@link ObjectRef} resolves to a live object. The runtime installs it;
 * until then, `load()` fails with a clear error instead of a null dereference.
 */
export type RefLoader = (ref: ObjectRef) => Promise<unknown>;

let refLoader: RefLoader | undefined;

/**
 * @internal The error for an object-layer call made before the runtime wired
 * itself in: a module was imported by its deep path, not from the package root.
 */
export function runtimeNotLoaded(): ConfigurationError {
  return new ConfigurationError('import', 'the OaaS runtime is not loaded; import oaas-sdk from the package root, not a module inside it');
}

/** @internal Installs the function `ObjectRef.load()` uses. */
export function setRefLoader(loader: RefLoader): void {
  refLoader = loader;
}

/**
 * A durable pointer to an object: its class, partition and id.
 * Storing an object (or a ref) in a state field stores this identity, and
 * reading the field back gives an `ObjectRef`. Refs are immutable.
 *
 * @example
 * const ref = counter.asRef();
 * String(ref); // 'default.Counter/0/c1'
 * const again = await ref.load<Counter>();
 */
export class ObjectRef implements ObjectIdentity {
  readonly clsId: string;
  readonly partitionId: number;
  readonly objectId: string;

  /** @throws InvalidArgumentError / InvalidIdError for a ref that could not be stored and read back. */
  constructor(clsId: string, partitionId: number, objectId: string) {
    if (typeof clsId !== 'string' || clsId === '') throw new InvalidArgumentError('clsId', 'expected a non-empty class id');
    this.clsId = clsId;
    this.partitionId = normalizePartitionId(partitionId);
    this.objectId = normalizeObjectId(objectId);
    Object.freeze(this);
  }

  /** Loads the live object this ref points to. */
  load<T = unknown>(): Promise<T> {
    if (refLoader === undefined) return Promise.reject(runtimeNotLoaded());
    return refLoader(this) as Promise<T>;
  }

  /** True when `other` names the same object. */
  equals(other: ObjectIdentity): boolean {
    return other.clsId === this.clsId && other.partitionId === this.partitionId && other.objectId === this.objectId;
  }

  /** `cls/partition/id`. */
  toString(): string {
    return `${this.clsId}/${String(this.partitionId)}/${this.objectId}`;
  }

  /** How `console.log` and `util.inspect` show it. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `ObjectRef(${this.toString()})`;
  }

  toJSON(): { clsId: string; partitionId: number; objectId: string } {
    return { clsId: this.clsId, partitionId: this.partitionId, objectId: this.objectId };
  }
}

/** Objects that can stand in a state field as their identity implement this symbol. */
export const TO_REF: unique symbol = Symbol('oaas.toRef');

/** Something that turns into an {@link ObjectRef} when stored. */
export interface RefConvertible {
  [TO_REF](): ObjectRef;
}

export function isRefConvertible(value: object): value is RefConvertible {
  return typeof (value as Partial<RefConvertible>)[TO_REF] === 'function';
}
