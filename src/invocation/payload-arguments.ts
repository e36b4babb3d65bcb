/**
 * The arguments of a binary payload, for transports whose payloads need not
 * be JSON (the Oparaca platform's gRPC and HTTP): UTF-8 JSON is read as a
 * JSON body is; anything else is the method's one argument, as bytes.
 */
import { InvalidArgumentError } from '../errors.js';
import { decodeArguments } from './dispatcher.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The arguments of `payload`: those of its JSON when it is UTF-8 JSON (or empty), else the bytes as one argument. */
export function payloadArguments(payload: Uint8Array, method: { readonly name: string; readonly arity: number }): unknown[] {
  let text: string | undefined;
  try {
    text = strictUtf8.decode(payload);
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    try {
      return decodeArguments(text, method);
    } catch (error) {
      // Only text that is not JSON at all is taken as bytes; JSON of the wrong shape is still the caller's mistake.
      if (!(error instanceof InvalidArgumentError && error.cause instanceof SyntaxError)) throw error;
    }
  }
  if (method.arity > 1) throw new InvalidArgumentError('payload', `${method.name} takes ${method.arity} arguments: send a JSON array`);
  return [payload];
}
