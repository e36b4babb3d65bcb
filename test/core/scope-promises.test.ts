import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, runInSession, sessionScope, shutdown } from '../../src/index.js';
import { freshRuntime, tempSqlite } from '../support/runtime.js';
import { Counter } from '../support/services.js';

afterEach(async () => {
  await shutdown();
});

/** Promises made while `fn` runs (every promise pays the AsyncLocalStorage hooks on Node 20). */
async function promisesMadeBy(fn: () => Promise<unknown>): Promise<number> {
  let made = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') made += 1;
    },
  });
  hook.enable();
  try {
    await fn();
  } finally {
    hook.disable();
  }
  return made;
}

describe('the promises a scope makes', () => {
  it('a scope of three calls on SQLite makes at most 17 promises, the calls and the commit included', async () => {
    await freshRuntime({ store: tempSqlite() });
    const counters = await runInSession(async () => {
      const made = ['a', 'b', 'c'].map((id) => Counter.create({}, { id }));
      await commitAll();
      return made;
    });
    const scope = () =>
      sessionScope(async () => {
        for (const c of counters) await c.increment();
      });
    for (let i = 0; i < 20; i++) await scope();
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) counts.push(await promisesMadeBy(scope));
    // 27 with async wrappers around the entry point, the scope and the commit's lock wait; 20 with the commit
    // awaiting the store's promise and the commit line's.
    expect(Math.min(...counts)).toBeLessThanOrEqual(17);
    expect(counters.map((c) => c.count)).toEqual([25, 25, 25]);
  });
});
