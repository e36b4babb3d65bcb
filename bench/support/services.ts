/**
 * The one object type every scenario uses: three state fields and an
 * `increment` method, as an SDK service, as a plain class (the baseline of
 * scenario 1) and, in `mikro-orm.ts`, as a MikroORM entity.
 */
import { OaasObject, method, service } from '../../src/index.js';

@service('Counter', { package: 'bench' })
export class BenchCounter extends OaasObject {
  count = 0;
  name = '';
  updatedAt = 0;

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}

/** The same class undecorated: a plain object with a plain async method. */
export class PlainCounter {
  count = 0;
  name = '';
  updatedAt = 0;

  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}
