import { createHash } from 'node:crypto';
import { ObjectNotFoundError } from '../errors.js';
import { OaasObject, type CreateOptions, type LoadOptions } from '../object/oaas-object.js';
import { method, service } from '../registry/decorators.js';

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

  /** Its reminder, set when it is made: the record has served its time (`idempotencyRetentionMs`). */
  @method()
  async expire(): Promise<void> {
    await this.delete();
  }
}

/** How long a record made now is kept: the retention, on a store that keeps wake times (records expire as reminders); else for good. */
export function recordExpiry(retentionMs: number | null, indexed: boolean): number | undefined {
  return retentionMs !== null && indexed ? retentionMs : undefined;
}

/**
 * Records `result` under `id` in the current scope, with its expiry when
 * `expireInMs` is set (a store with a wake index and a retention: see
 * `idempotencyRetentionMs`).
 */
export function recordIdempotentResult(
  create: (ctor: typeof IdempotencyRecord, init: unknown, options: CreateOptions) => OaasObject,
  id: string,
  partitionId: number,
  result: unknown,
  expireInMs: number | undefined,
): void {
  const record = create(IdempotencyRecord, { result }, { id, partitionId });
  if (expireInMs !== undefined) record.schedule('expire', { inMs: expireInMs, name: 'expire' });
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
