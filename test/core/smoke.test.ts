import { afterEach, describe, expect, it } from 'vitest';
import { OaasObject, configureOaas, method, service, shutdown, commitAll, currentSession } from '../../src/index.js';

@service('SmokeCounter', { package: 'smoke' })
class Counter extends OaasObject {
  count = 0;
  tags: string[] = [];
  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}

describe('smoke', () => {
  afterEach(async () => {
    await shutdown();
  });
  it('creates, commits and reloads', async () => {
    await configureOaas({ store: 'memory', autoCommit: false, logLevel: 'silent' });
    const c = Counter.create({ count: 2 }, { id: 'c1' });
    expect(await c.increment(3)).toBe(5);
    c.tags.push('x');
    expect(currentSession().pendingCount).toBe(1);
    const summary = await commitAll();
    expect(summary.committed).toBe(1);
    expect(c.version).toBe(1);
    const again = await Counter.load('c1');
    expect(again).toBe(c);
  });
});
