/**
 * Invocation requests and responses, shaped like the OaaS platform's so that
 * code written against the platform keeps working.
 */

/** A request to run a method: on an object (`objectId`) or a stateless one. */
export interface InvocationRequest {
  readonly clsId: string;
  readonly partitionId: number;
  /** Absent for a stateless method. */
  readonly objectId?: string | undefined;
  /** The method's invocation name. */
  readonly fnId: string;
  /** JSON of the single argument, or of an array of arguments when the method takes several. */
  readonly payload?: Uint8Array | string | undefined;
  readonly options?: Readonly<Record<string, string>> | undefined;
}

/** How an invocation ended. */
export type ResponseStatus = 'OKAY' | 'INVALID_REQUEST' | 'APP_ERROR' | 'SYSTEM_ERROR';

/** The outcome of an invocation. */
export interface InvocationResponse {
  readonly status: ResponseStatus;
  /** JSON of the return value; for errors, JSON of `{ error_type, error_message, code? }`. */
  readonly payload?: Uint8Array | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The error body of a failed invocation. */
export interface InvocationErrorBody {
  readonly error_type: string;
  readonly error_message: string;
  /** The `OaasError` code, when the error has one. */
  readonly code?: string | undefined;
}
