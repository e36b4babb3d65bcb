import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep, setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { currentSession, getAutoSessionManager, runInSession, type CommitResult } from '../../src/index.js';
import { entryValue } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Account } from '../support/services.js';
import { SaturatedStore } from './support/saturated-store.js';

shutdownAfterEach();

const CONTEXTS = 10_000;

describe('async context isolation', () => {
  it('keeps 10k concurrent contexts in their own sessions across timers, events and a saturated store', { timeout: 120_000 }, async () => {
    const store = new SaturatedStore();
    await freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 5 });
    // Emitted from outside every context. Contexts wait for it with `once()`, whose promise
    // resumes them in their own context (a listener callback would run in the emitter's).
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    const ticker = setInterval(() => emitter.emit('tick'), 2);

    const firstIds: string[] = [];
    const violations: string[] = [];
    const results: CommitResult[][] = [];
    let observations = 0;

    const context = (i: number): Promise<void> =>
      runInSession(async () => {
        const own = currentSession().id;
        firstIds[i] = own;
        const check = (where: string): void => {
          observations += 1;
          const seen = currentSession().id;
          if (seen !== own) violations.push(`context ${i} at ${where}: saw ${seen}, owns ${own}`);
        };
        const a = Account.create({}, { id: `iso-${i}-a` });
        const b = Account.create({}, { id: `iso-${i}-b` });
        check('after create');
        const mine: CommitResult[] = [];
        await Promise.all([
          (async () => {
            await sleep(i % 7);
            check('after a timer');
          })(),
          (async () => {
            await once(emitter, 'tick');
            check('after an event');
          })(),
          new Promise<void>((resolve) => {
            setTimeout(() => {
              check('in a timer callback');
              resolve();
            }, i % 5);
          }),
          (async () => {
            await a.deposit(i);
            check('after a method call');
          })(),
        ]);
        await b.deposit(1);
        check('after a second call');
        // The store is saturated: this commit waits behind thousands of others.
        mine.push(await currentSession().commit());
        check('after a queued commit');
        await nextTurn();
        b.balance += 1;
        check('after a plain write');
        mine.push(await currentSession().commit());
        check('at the end');
        results[i] = mine;
      });

    try {
      await Promise.all(Array.from({ length: CONTEXTS }, (_, i) => context(i)));
      await getAutoSessionManager().settled();
    } finally {
      clearInterval(ticker);
    }

    expect(violations.slice(0, 5)).toEqual([]);
    expect(new Set(firstIds).size).toBe(CONTEXTS);
    // A session commits what its own context changed, and nothing of anyone else's.
    for (let i = 0; i < CONTEXTS; i++) {
      for (const result of results[i]!) {
        expect(result.sessionId).toBe(firstIds[i]);
        for (const ref of result.committed) expect(ref.objectId.startsWith(`iso-${i}-`), `${ref.objectId} committed by context ${i}`).toBe(true);
      }
    }
    // Background commits too: every batch written holds the objects of one context only.
    let mixed = 0;
    for (const batch of store.batches) {
      if (new Set(batch.map((op) => op.key.objectId.split('-')[1])).size !== 1) mixed += 1;
    }
    expect(mixed).toBe(0);
    // Everything reached the store with the right values.
    // Context i deposited i into its `a`, and 1 then a plain +1 into its `b`.
    const key = (objectId: string) => ({ clsId: 'test.Account', partitionId: 0, objectId });
    const stored = await store.getMany(Array.from({ length: CONTEXTS }, (_, i) => [key(`iso-${i}-a`), key(`iso-${i}-b`)]).flat());
    const wrong: string[] = [];
    for (let i = 0; i < CONTEXTS; i++) {
      const [a, b] = [entryValue(stored[2 * i], 'balance'), entryValue(stored[2 * i + 1], 'balance')];
      if (a !== i || b !== 2) wrong.push(`context ${i}: a ${String(a)}, b ${String(b)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    console.log(
      `async isolation: ${CONTEXTS} contexts, ${observations} session observations, ${violations.length} foreign; ` +
        `${store.batches.length} store batches, ${mixed} mixed; lost 0`,
    );
  });
});
