/** Method arguments as a request body: what the client sends and a cluster member forwards. */
import { InvalidArgumentError } from '../errors.js';
import type { ClassMeta } from './class-meta.js';

/**
 * The request body for a call: nothing for no argument, the JSON of the
 * argument for a method of one parameter, a JSON array of them for more.
 */
export function encodeArgs(meta: ClassMeta | undefined, name: string, args: readonly unknown[]): string | undefined {
  const accessor = meta?.accessors.get(name);
  const arity = meta?.methodsByName.get(name)?.arity ?? (accessor === undefined ? undefined : accessor.kind === 'setter' ? 1 : 0);
  const given = [...args];
  // Trailing `undefined`s are missing arguments (their defaults apply on the server); JSON would turn them into null.
  while (given.length > 0 && given.at(-1) === undefined) given.pop();
  if (given.length === 0) return undefined;
  if (arity !== undefined && arity > 1) return jsonOf(given, 'args');
  if (given.length > 1) throw new InvalidArgumentError('args', `${name} takes ${arity ?? 1} argument(s), got ${given.length}`);
  return jsonOf(given[0], 'args');
}

export function jsonOf(value: unknown, argument: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new InvalidArgumentError(argument, `cannot be sent as JSON: ${(error as Error).message}`, { cause: error });
  }
  if (text === undefined) throw new InvalidArgumentError(argument, 'cannot be sent as JSON');
  return text;
}

