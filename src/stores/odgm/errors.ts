/**
 * How gRPC failures of the DataService become the SDK's own errors, at the
 * ODGM store's boundary. ODGM's statuses are read from its service
 * (`data-plane/oprc-odgm/src/grpc_service/data.rs` upstream): `NOT_FOUND`
 * for an object or a shard it does not hold, `ABORTED` for a version
 * mismatch, `INVALID_ARGUMENT` for an id or key it cannot normalise,
 * `UNAVAILABLE` for a shard not ready, `FAILED_PRECONDITION` for a replica
 * that is not the leader, `INTERNAL` for storage and replication failures.
 */
import { InvalidArgumentError, OaasError, StoreError } from '../../errors.js';

/** The gRPC status codes (the same numbers in every gRPC implementation). */
export const GRPC_STATUS = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const NAMES = new Map<number, string>(Object.entries(GRPC_STATUS).map(([name, code]) => [code, name]));

/**
 * Statuses a retry may cure: the server is unreachable or overloaded, the
 * call ran out of time (it may still have been applied, which expected
 * versions detect), the shard is not ready, or the replica asked is not the
 * leader while an election runs.
 */
const TRANSIENT = new Set<number>([
  GRPC_STATUS.UNAVAILABLE,
  GRPC_STATUS.DEADLINE_EXCEEDED,
  GRPC_STATUS.RESOURCE_EXHAUSTED,
  GRPC_STATUS.FAILED_PRECONDITION,
  GRPC_STATUS.ABORTED,
  GRPC_STATUS.CANCELLED,
]);

/** The status of a grpc-js `ServiceError`, or `undefined` for anything else. */
export function grpcStatus(error: unknown): { code: number; details: string } | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, details } = error as { code?: unknown; details?: unknown };
  if (typeof code !== 'number' || !Number.isInteger(code)) return undefined;
  return { code, details: typeof details === 'string' ? details : error.message };
}

/** True for ODGM's "not found shard": this DataService holds no shard of the class and partition asked. */
export function isMissingShard(status: { code: number; details: string } | undefined): boolean {
  return status?.code === GRPC_STATUS.NOT_FOUND && /shard/i.test(status.details);
}

/**
 * Turns whatever a DataService call threw into the SDK's errors, keeping
 * the original as `cause`. `argument` names what an `INVALID_ARGUMENT`
 * blames; errors the SDK raised itself pass through unchanged.
 */
export function translateError(operation: string, error: unknown, argument = 'key'): Error {
  if (error instanceof OaasError) return error;
  const status = grpcStatus(error);
  if (status === undefined) {
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreError(`odgm ${operation} failed: ${reason}`, { transient: false }, { cause: error });
  }
  const what = `${NAMES.get(status.code) ?? `status ${status.code}`}: ${status.details}`;
  if (status.code === GRPC_STATUS.INVALID_ARGUMENT) return new InvalidArgumentError(argument, `ODGM refused the ${operation} (${what})`, { cause: error });
  if (isMissingShard(status)) {
    return new StoreError(
      `odgm ${operation} failed: this ODGM holds no shard of the class and partition asked (${what}); the class must be a collection of the deployment, and the partition one this ODGM instance serves`,
      { transient: false },
      { cause: error },
    );
  }
  if (status.code === GRPC_STATUS.UNIMPLEMENTED) {
    return new StoreError(
      `odgm ${operation} failed: the server does not implement this call (${what}); point the store at ODGM's own DataService (ODGM_SERVICE), not the gateway's`,
      { transient: false },
      { cause: error },
    );
  }
  return new StoreError(`odgm ${operation} failed: ${what}`, { transient: TRANSIENT.has(status.code) }, { cause: error });
}
