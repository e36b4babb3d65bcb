import { OaasObject } from '../object/oaas-object.js';
import { service } from '../registry/decorators.js';

/**
 * The first result of an invocation made with an `Idempotency-Key`, stored
 * in the same commit as the state change it reports, so a repeat after a
 * restart still finds it. Internal: the gateway never serves `oaas.*` classes.
 */
@service('Idempotency', { package: 'oaas', description: 'first results of idempotent invocations' })
export class IdempotencyRecord extends OaasObject {
  /** The JSON reply of the first call. */
  result: unknown = null;
  /** When it was recorded (ms since epoch), for clean-up jobs. */
  at = Date.now();
}
