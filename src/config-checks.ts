/**
 * The checks every configuration option goes through: its type, its range,
 * and the environment variable it may come from. Each fails with a
 * `ConfigurationError` naming the option (and the variable).
 */
import { describeValue } from './describe.js';
import { ConfigurationError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Refuses option names outside `known` with a `ConfigurationError` naming
 * every one of them (its `field` is their list), so a misspelt option fails
 * instead of being ignored.
 */
export function checkKnownOptions(options: object, known: ReadonlySet<string>): void {
  const unknown = Object.keys(options).filter((key) => !known.has(key));
  if (unknown.length === 0) return;
  throw new ConfigurationError(unknown.join(', '), `unknown option${unknown.length === 1 ? '' : 's'} (known: ${[...known].join(', ')})`);
}

export function fromEnv<T>(env: Env, name: string, field: string, parse: (raw: string, field: string) => T): T | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return parse(raw, `${field} (${name})`);
}

export function parseBool(raw: string, field: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigurationError(field, `expected true or false, got ${JSON.stringify(raw)}`);
}

export function parseNumber(raw: string, field: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigurationError(field, `expected a number, got ${JSON.stringify(raw)}`);
  return n;
}

export function checkBool(value: unknown, field: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigurationError(field, `expected a boolean, got ${typeof value}`);
  return value;
}

export function checkInt(value: unknown, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigurationError(field, `expected an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

