/**
 * The service the three members serve. `increment` says which member ran
 * it: in cluster mode a call runs on the object's owner, whichever member
 * it was sent to.
 */
import { OaasObject, getStats, method, service } from '../../src/index.js';

/** What `increment` answers. */
export interface Counted {
  readonly count: number;
  /** The member id of the process that ran the call (the object's owner). */
  readonly ranOn: string;
}

@service('Counter', { package: 'cluster_example' })
export class Counter extends OaasObject {
  count = 0;

  @method()
  async increment(by: number = 1): Promise<Counted> {
    this.count += by;
    return { count: this.count, ranOn: getStats().cluster?.memberId ?? 'not in cluster mode' };
  }
}
