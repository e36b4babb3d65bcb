/**
 * The Standard Schema interface, version 1 (https://standardschema.dev),
 * copied as the spec recommends so that the SDK depends on no validation
 * library: zod, valibot, arktype and others implement it, and a hand-made
 * object does too. The spec groups these types in a namespace; they are flat
 * here, which is the same shape to the compiler (types are structural).
 */

/** A validator of values of type `Input`, giving values of type `Output`. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** What every Standard Schema carries under `~standard`. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1;
  /** The library that made the schema, e.g. `zod`. */
  readonly vendor: string;
  readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** Types only (never present at run time): what the schema takes and gives. */
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

/** A validation's outcome: the (possibly transformed) value, or the issues. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardSchemaIssue[] };

/** One problem with a value. */
export interface StandardSchemaIssue {
  readonly message: string;
  /** Where in the value: keys, or `{ key }` segments. */
  readonly path?: readonly (PropertyKey | StandardSchemaPathSegment)[] | undefined;
}

export interface StandardSchemaPathSegment {
  readonly key: PropertyKey;
}

/** True for a Standard Schema of version 1 (objects and functions both: arktype's schemas are functions). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props = (value as { '~standard'?: unknown })['~standard'];
  if (typeof props !== 'object' || props === null) return false;
  const { version, validate } = props as { version?: unknown; validate?: unknown };
  return version === 1 && typeof validate === 'function';
}
