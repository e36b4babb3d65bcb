/**
 * What a method's arguments must be, and the check of a call against it:
 * their count, then the `@method({ params })` schemas when there are some,
 * else what the code says by itself (design types where the compiler emitted
 * them, the type of a literal default). Remote calls always pass through
 * {@link checkArguments}; local ones only with `validateLocal`.
 */
import { describeValue } from '../describe.js';
import { InvalidArgumentError, RegistrationError } from '../errors.js';
import type { DeclaredParameter, MethodMeta, MethodOptions, ParamSchemas } from './class-meta.js';
import { isStandardSchema, type StandardSchemaIssue, type StandardSchemaResult } from './standard-schema.js';

/** The `params` and `validateLocal` options, checked when `@method` runs. */
export function argumentOptions(
  options: Pick<MethodOptions, 'params' | 'validateLocal'>,
  parameters: readonly DeclaredParameter[],
  propertyKey: string,
): { params: ParamSchemas | undefined; validateLocal: boolean } {
  const { params, validateLocal } = options;
  if (validateLocal !== undefined && typeof validateLocal !== 'boolean') {
    throw new RegistrationError(`${propertyKey}: validateLocal must be a boolean, got ${describeValue(validateLocal)}`);
  }
  return { params: paramSchemas(params, parameters.length, propertyKey), validateLocal: validateLocal === true };
}

function paramSchemas(params: unknown, arity: number, propertyKey: string): ParamSchemas | undefined {
  if (params === undefined) return undefined;
  if (Array.isArray(params)) {
    const list = params as unknown[];
    const bad = list.findIndex((s) => !isStandardSchema(s));
    if (bad !== -1) {
      throw new RegistrationError(`${propertyKey}: params[${bad}] is not a Standard Schema (an object with '~standard' of version 1 and a validate function), got ${describeValue(list[bad])}`);
    }
    if (list.length !== arity) {
      throw new RegistrationError(`${propertyKey}: params has ${plural(list.length, 'schema')}, but the method declares ${plural(arity, 'parameter')}`);
    }
    return { kind: 'each', schemas: list.filter(isStandardSchema) };
  }
  if (isStandardSchema(params)) return { kind: 'list', schema: params };
  throw new RegistrationError(
    `${propertyKey}: params must be an array of Standard Schemas (one per parameter) or one Standard Schema of the argument list, got ${describeValue(params)}`,
  );
}

/**
 * Checks a call's arguments and returns those the method gets: the schemas'
 * output, or the arguments with `null` turned into `undefined` where a literal
 * default applies. Throws (or, with an asynchronous schema, rejects with)
 * `InvalidArgumentError` naming the parameter and the issue.
 */
export function checkArguments(method: MethodMeta, args: readonly unknown[]): unknown[] | Promise<unknown[]> {
  if (args.length > method.arity) {
    throw new InvalidArgumentError(`${method.name}(...)`, `takes ${plural(method.arity, 'argument')}, got ${args.length}`);
  }
  const params = method.params;
  if (params === undefined) return inferredCheck(method, args);
  if (params.kind === 'list') {
    const result = params.schema['~standard'].validate([...args]);
    return isPromise(result) ? result.then((r) => listOutput(method, r)) : listOutput(method, result);
  }
  const results = params.schemas.map((schema, i) => schema['~standard'].validate(args[i]));
  if (results.some(isPromise)) return Promise.all(results.map((r) => Promise.resolve(r))).then((rs) => eachOutput(method, args.length, rs));
  return eachOutput(method, args.length, results as StandardSchemaResult<unknown>[]);
}

type Expected = 'number' | 'string' | 'boolean' | 'array';

/**
 * A declared `number`, `string`, `boolean` or array type decides; otherwise
 * (`Object` is what compilers emit for `unknown`, unions, interfaces and no
 * annotation at all) a literal default does: `by = 1` takes numbers.
 */
function inferredCheck(method: MethodMeta, args: readonly unknown[]): unknown[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    const value = out[i];
    const literal = method.parameters[i]?.literal;
    // JSON has no `undefined`: `null` is how a remote caller asks for the default.
    if (value === null && literal !== undefined) out[i] = undefined;
    if (value === undefined || value === null) continue;
    const expected = designType(method.paramTypes?.[i]) ?? literal;
    if (expected !== undefined && !matches(value, expected)) {
      throw new InvalidArgumentError(parameterLabel(method, i, []), `expected ${expected === 'array' ? 'an' : 'a'} ${expected}, got ${describeValue(value)}`);
    }
  }
  return out;
}

function designType(type: unknown): Expected | undefined {
  if (type === Number) return 'number';
  if (type === String) return 'string';
  if (type === Boolean) return 'boolean';
  if (type === Array) return 'array';
  return undefined;
}

function matches(value: unknown, expected: Expected): boolean {
  return expected === 'array' ? Array.isArray(value) : typeof value === expected;
}

interface LabelledIssue {
  readonly label: string;
  readonly message: string;
}

function eachOutput(method: MethodMeta, given: number, results: readonly StandardSchemaResult<unknown>[]): unknown[] {
  const issues: LabelledIssue[] = [];
  results.forEach((r, i) => {
    if (r.issues !== undefined) for (const issue of r.issues) issues.push({ label: parameterLabel(method, i, issue.path ?? []), message: issue.message });
  });
  if (issues.length > 0) throw issuesError(issues);
  const out = results.map((r) => (r as { value: unknown }).value);
  // Missing arguments stay missing (their defaults apply), unless a schema gave them a value.
  while (out.length > given && out[out.length - 1] === undefined) out.pop();
  return out;
}

function listOutput(method: MethodMeta, result: StandardSchemaResult<unknown>): unknown[] {
  if (result.issues !== undefined) {
    throw issuesError(
      result.issues.map((issue) => {
        const [first, ...rest] = issue.path ?? [];
        const index = first === undefined ? undefined : Number(segmentKey(first));
        return index !== undefined && Number.isInteger(index) && index >= 0
          ? { label: parameterLabel(method, index, rest), message: issue.message }
          : { label: `${method.name}(...)${pathText(issue.path ?? [])}`, message: issue.message };
      }),
    );
  }
  // The schema is the application's: an output that is no argument list is its bug, not the caller's.
  if (!Array.isArray(result.value)) throw new RegistrationError(`${method.name}: the params schema must output the array of arguments, got ${describeValue(result.value)}`);
  return result.value as unknown[];
}

const SHOWN_ISSUES = 5;

function issuesError(issues: readonly LabelledIssue[]): InvalidArgumentError {
  const [first, ...others] = issues as [LabelledIssue, ...LabelledIssue[]];
  const more = others.slice(0, SHOWN_ISSUES - 1).map((i) => `; ${i.label}: ${i.message}`).join('');
  const hidden = issues.length > SHOWN_ISSUES ? `; and ${issues.length - SHOWN_ISSUES} more` : '';
  return new InvalidArgumentError(first.label, `${first.message}${more}${hidden}`);
}

/** `increment(by)`, `setOwner(owner.name)`, `tag(tags[2])`; `argument 2` for a destructured parameter. */
function parameterLabel(method: MethodMeta, index: number, path: NonNullable<StandardSchemaIssue['path']>): string {
  return `${method.name}(${method.parameters[index]?.name ?? `argument ${index + 1}`}${pathText(path)})`;
}

function segmentKey(segment: NonNullable<StandardSchemaIssue['path']>[number]): PropertyKey {
  return typeof segment === 'object' ? segment.key : segment;
}

function pathText(path: NonNullable<StandardSchemaIssue['path']>): string {
  return path
    .map((segment) => {
      const key = segmentKey(segment);
      if (typeof key === 'number' || (typeof key === 'string' && /^\d+$/.test(key))) return `[${String(key)}]`;
      if (typeof key === 'string') return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
      return `[${key.toString()}]`;
    })
    .join('');
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
