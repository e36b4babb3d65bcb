/**
 * The state codec: what a state field may hold, and how it becomes bytes.
 *
 * Storable values are JSON values (finite numbers), `undefined`, `bigint`,
 * `Date`, `Uint8Array`/`Buffer`, `Map`, `Set`, plain objects and arrays of
 * these, and {@link ObjectRef}s (a live object stored in a field becomes its
 * ref). Everything else is refused with a {@link SerializationError} that
 * names the class, the object and the path of the offending value.
 *
 * The wire form is JSON with a small tag vocabulary (`{"$t": ...}`), so stored
 * entries stay readable by other tools and other languages.
 */
import { SerializationError } from '../errors.js';
import { describeType } from '../describe.js';
import { ObjectRef, TO_REF, isRefConvertible } from './object-ref.js';
import { rawOf } from './raw.js';

/** Where a value sits, for error messages. */
export interface ValueLocation {
  readonly clsId?: string | undefined;
  readonly objectId?: string | undefined;
  /** The field name the value belongs to. */
  readonly field: string;
}

type PathStep = string | number;

function formatPath(field: string, steps: readonly PathStep[]): string {
  let path = field;
  for (const step of steps) path += typeof step === 'number' ? `[${String(step)}]` : `.${step}`;
  return path;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

class Copier {
  private readonly ancestors = new Set<object>();
  private readonly steps: PathStep[] = [];

  constructor(private readonly where: ValueLocation) {}

  fail(message: string): never {
    throw new SerializationError(
      { clsId: this.where.clsId, objectId: this.where.objectId, path: formatPath(this.where.field, this.steps) },
      message,
    );
  }

  copy(input: unknown): unknown {
    switch (typeof input) {
      case 'string':
      case 'boolean':
      case 'undefined':
      case 'bigint':
        return input;
      case 'number':
        if (!Number.isFinite(input)) this.fail(`${String(input)} is not a finite number`);
        return input;
      case 'function':
        return this.fail('functions cannot be stored');
      case 'symbol':
        return this.fail('symbols cannot be stored');
      default:
        break;
    }
    if (input === null) return null;
    const value = rawOf(input as object);
    if (value instanceof ObjectRef) return value;
    if (isRefConvertible(value)) return value[TO_REF]();
    if (this.ancestors.has(value)) this.fail('cycles cannot be stored');
    this.ancestors.add(value);
    try {
      return this.copyObject(value);
    } finally {
      this.ancestors.delete(value);
    }
  }

  private copyObject(value: object): unknown {
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) this.fail(`${describeType(value)} instances cannot be stored`);
      const out = new Array<unknown>(value.length);
      for (let i = 0; i < value.length; i++) {
        this.steps.push(i);
        out[i] = this.copy(value[i]);
        this.steps.pop();
      }
      return out;
    }
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) this.fail('invalid Date cannot be stored');
      return new Date(value.getTime());
    }
    if (value instanceof Uint8Array) {
      return Buffer.isBuffer(value) ? Buffer.from(value) : new Uint8Array(value);
    }
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value) {
        this.steps.push(String(k));
        out.set(this.copy(k), this.copy(v));
        this.steps.pop();
      }
      return out;
    }
    if (value instanceof Set) {
      const out = new Set<unknown>();
      let i = 0;
      for (const v of value) {
        this.steps.push(i++);
        out.add(this.copy(v));
        this.steps.pop();
      }
      return out;
    }
    if (!isPlainObject(value)) {
      return this.fail(`${describeType(value)} instances cannot be stored (use plain objects, arrays, Map, Set, Date, Uint8Array or ObjectRef)`);
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      this.steps.push(key);
      const copied = this.copy(value[key]);
      Object.defineProperty(out, key, { value: copied, enumerable: true, writable: true, configurable: true });
      this.steps.pop();
    }
    if (Object.getOwnPropertySymbols(value).some((s) => Object.prototype.propertyIsEnumerable.call(value, s))) {
      this.fail('symbol keys cannot be stored');
    }
    return out;
  }
}

/**
 * True for a value {@link toStateValue} returns as it is (a string, a
 * boolean, a finite number, a bigint or `undefined`), so that hot paths skip
 * building the value's location for it.
 */
export function isPlainScalar(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    case 'number':
      return Number.isFinite(value);
    default:
      return false;
  }
}

/**
 * Validates `value` as storable state and returns an independent deep copy.
 * Tracking proxies are read through, live objects become {@link ObjectRef}s.
 * Primitives come back as they are, so the common case costs nothing.
 */
export function toStateValue(value: unknown, where: ValueLocation): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number' && !Number.isFinite(value)) return new Copier(where).copy(value);
    if (typeof value === 'function' || typeof value === 'symbol') return new Copier(where).copy(value);
    return value;
  }
  return new Copier(where).copy(value);
}

// ---------------------------------------------------------------------------
// Wire form

const TAG = '$t';

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function toJsonTree(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Object.is(value, -0) ? 0 : value;
    case 'undefined':
      return { [TAG]: 'u' };
    case 'bigint':
      return { [TAG]: 'n', v: value.toString() };
    default:
      break;
  }
  if (value === null) return null;
  const raw = rawOf(value as object);
  if (raw instanceof ObjectRef) return { [TAG]: 'r', c: raw.clsId, p: raw.partitionId, i: raw.objectId };
  if (Array.isArray(raw)) return raw.map(toJsonTree);
  if (raw instanceof Date) return { [TAG]: 'd', v: raw.toISOString() };
  if (raw instanceof Uint8Array) return { [TAG]: Buffer.isBuffer(raw) ? 'B' : 'b', v: b64(raw) };
  if (raw instanceof Map) return { [TAG]: 'm', v: [...raw].map(([k, v]) => [toJsonTree(k), toJsonTree(v)]) };
  if (raw instanceof Set) return { [TAG]: 's', v: [...raw].map(toJsonTree) };
  const record = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    Object.defineProperty(out, key, { value: toJsonTree(record[key]), enumerable: true, writable: true, configurable: true });
  }
  return Object.prototype.hasOwnProperty.call(record, TAG) ? { [TAG]: 'o', v: out } : out;
}

/** Encodes a storable value as JSON text. */
export function encodeState(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(toJsonTree(value));
}

function malformed(message: string): never {
  throw new SerializationError({ path: '<stored entry>' }, message);
}

function fromJsonTree(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  if (Array.isArray(node)) return node.map(fromJsonTree);
  const record = node as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(record, TAG)) return plainFromJson(record);
  const v = record.v;
  switch (record[TAG]) {
    case 'u':
      return undefined;
    case 'n':
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) return malformed('bigint tag without an integer string');
      return BigInt(v);
    case 'd': {
      const date = typeof v === 'string' ? new Date(v) : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) return malformed('date tag without a valid ISO date');
      return date;
    }
    case 'b':
      if (typeof v !== 'string') return malformed('bytes tag without a string value');
      return new Uint8Array(Buffer.from(v, 'base64'));
    case 'B':
      if (typeof v !== 'string') return malformed('bytes tag without a string value');
      return Buffer.from(v, 'base64');
    case 'm':
      if (!Array.isArray(v)) return malformed('map tag without entries');
      return new Map(
        v.map((pair: unknown) => {
          if (!Array.isArray(pair) || pair.length !== 2) return malformed('map entry is not a pair');
          return [fromJsonTree(pair[0]), fromJsonTree(pair[1])] as const;
        }),
      );
    case 's':
      if (!Array.isArray(v)) return malformed('set tag without values');
      return new Set(v.map(fromJsonTree));
    case 'r': {
      const { c, p, i } = record;
      if (typeof c !== 'string' || typeof p !== 'number' || typeof i !== 'string') return malformed('ref tag is incomplete');
      try {
        return new ObjectRef(c, p, i);
      } catch (error) {
        return malformed(`ref tag names no valid object (${(error as Error).message})`);
      }
    }
    case 'o':
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return malformed('escaped object tag without an object');
      return plainFromJson(v as Record<string, unknown>);
    default:
      return malformed(`unknown tag ${JSON.stringify(record[TAG])}`);
  }
}

function plainFromJson(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    Object.defineProperty(out, key, { value: fromJsonTree(record[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Decodes JSON text written by {@link encodeState}. */
export function decodeState(text: string): unknown {
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch (error) {
    return malformed(`not valid JSON (${(error as Error).message})`);
  }
  return fromJsonTree(tree);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of an encoded entry, as stores keep them. */
export function textToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The encoded entry behind stored bytes. */
export function bytesToText(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (error) {
    return malformed(`stored entry is not UTF-8 (${(error as Error).message})`);
  }
}
