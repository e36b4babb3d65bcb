/** Errors across the wire: what an `OaasError` becomes in a reply, and the same class rebuilt from one. */
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import * as errors from './errors.js';
import { ApplicationError, RemoteError, StoreError, type OaasError } from './errors.js';
import type { WireError } from './protocol/wire.js';

export type { WireError };

/** An error as it crosses the wire: code and message only (never a stack). */
export function toWireError(error: OaasError): WireError {
  return {
    code: error.code,
    message: error.message,
    ...(error instanceof ApplicationError ? { type: error.errorType } : {}),
  };
}

/**
 * Rebuilds the `OaasError` subclass a wire error names, with the same code
 * and message, so remote callers can `instanceof` and switch on codes as
 * in-process callers do. Details beyond code and message (refs, conflicts)
 * do not cross the wire.
 */
export function fromWireError(wire: WireError): OaasError {
  const row = Object.hasOwn(ERROR_CODES, wire.code) ? ERROR_CODES[wire.code as ErrorCode] : undefined;
  const Class = row === undefined ? undefined : ERROR_CLASSES[row.error];
  if (row === undefined || typeof Class !== 'function') return new RemoteError(`${wire.code}: ${wire.message}`);
  const error = Object.create((Class as { prototype: object }).prototype) as OaasError & { errorType?: string; transient?: boolean };
  Object.defineProperties(error, {
    message: { value: wire.message, writable: true, configurable: true },
    name: { value: row.error, writable: true, configurable: true },
    code: { value: wire.code, enumerable: true },
    stack: { value: `${row.error}: ${wire.message}\n    at (remote)`, writable: true, configurable: true },
  });
  if (error instanceof ApplicationError) Object.defineProperty(error, 'errorType', { value: wire.type ?? 'Error', enumerable: true });
  // A store failure on the server is worth retrying from the client.
  if (error instanceof StoreError) Object.defineProperty(error, 'transient', { value: true, enumerable: true });
  return error;
}

/** Error classes by name, for {@link fromWireError}: each row of the table names its class, exported from errors.ts. */
const ERROR_CLASSES = errors as unknown as Readonly<Record<string, (abstract new (...args: never[]) => OaasError) | undefined>>;
