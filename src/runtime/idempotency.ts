import { createHash } from 'node:crypto';
import { ObjectNotFoundError } from '../errors.js';
import { OaasObject, type LoadOptions } from '../object/oaas-object.js';
import { service } from '../registry/decorators.js';

/**
 * The first result of an invocation made with an `Idempotency-Key`, stored
 * in the same commit as the state change it reports, so a repeat after a
 * restart still finds it. Internal: the gateway never serves `oaas.*` classes.
 * Invocations with a key (HTTP's `Idempotency-Key`, trigger deliveries)
 * look for it in the scope that runs the call and create it there.
 */
@service('Idempotency', { package: 'oaas', description: 'first results of idempotent invocations' })
export class IdempotencyRecord extends OaasObject {
  /** The JSON reply of the first call. */
  result: unknown = null;
  /** When it was recorded (ms since epoch), for clean-up jobs. */
  at = Date.now();
}

/** The id of the record of one key's call of one method on one object: a hash, so any key makes a valid id. */
export function idempotencyId(clsId: string, objectId: string, method: string, key: string): string {
  return createHash('sha256').update(`${clsId}\u0000${objectId}\u0000${method}\u0000${key}`).digest('hex');
}

/** The recorded result, or `undefined` when no call has been recorded under `id` (a recorded `undefined` result reads as `null`). */
export async function findIdempotentResult(
  load: (ctor: typeof IdempotencyRecord, id: string, options: LoadOptions) => Promise<OaasObject>,
  id: string,
  partitionId: number,
): Promise<unknown> {
  try {
    return ((await load(IdempotencyRecord, id, { partitionId })) as IdempotencyRecord).result;
  } catch (error) {
    if (error instanceof ObjectNotFoundError) return undefined;
    throw error;
  }
}
