/**
 * The service both sides know: the server runs it, the client imports it for
 * its class id and its types (no server or store code is loaded by the client).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OaasObject, getter, method, service } from '../../src/index.js';

@service('Counter', { package: 'remote_example' })
export class Counter extends OaasObject {
  count = 0;

  @getter() getCount!: () => Promise<number>;

  @method()
  async increment(by: number = 1): Promise<number> {
    if (by <= 0) throw new RangeError(`increment by a positive number, not ${by}`);
    this.count += by;
    return this.count;
  }

  /** Counts up one step at a time; each step is committed before its value is sent. */
  @method()
  async *countUp(steps: number): AsyncGenerator<number> {
    for (let i = 0; i < steps; i++) {
      this.count += 1;
      await this.checkpoint();
      yield this.count;
      await sleep(10);
    }
  }
}
