/**
 * The wire: every shape the server sends or takes and the client reads or
 * sends, in one module that imports nothing, so the client shares types with
 * the server and never its runtime. Invocation requests and responses are
 * shaped like the OaaS platform's, so code written against it keeps working.
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

/** An object's state on the wire. */
export interface ObjectState {
  readonly metadata: { readonly cls_id: string; readonly partition_id: number; readonly object_id: string };
  readonly version: number;
  /** Field key -> value, in the codec's JSON form (plain JSON for plain values). */
  readonly entries: Readonly<Record<string, unknown>>;
}

/** A page of `list`. */
export interface ObjectListing {
  readonly objects: readonly { readonly object_id: string; readonly version: number; readonly entry_count: number }[];
  readonly next_cursor?: string | undefined;
}

/** The JSON body of an error on the wire. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  /** For `ApplicationError`: the thrown error's type. */
  readonly type?: string | undefined;
}

/**
 * The reply header a server in the Oparaca dialect sets on every reply
 * (`oaas-dialect: oparaca`), so an SDK client can tell it does not speak the
 * SDK's own dialect (there, an application error is a 200 with a payload).
 */
export const DIALECT_HEADER = 'oaas-dialect';
