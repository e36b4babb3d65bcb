import { describe, expect, it } from 'vitest';
import { currentSession } from '../../src/index.js';
import {
  boundSlot,
  callIn,
  currentChain,
  currentInvocationContext,
  currentSlot,
  currentState,
  runInChain,
  runWithInvocation,
  runWithSlot,
  type ContextState,
} from '../../src/session/async-context.js';
import type { ChainLink } from '../../src/session/call-chain.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const EMPTY: ContextState = { slot: undefined, chain: undefined, invocation: undefined };

/** Runs `fn` in a context with nothing bound: no slot, no chain, no invocation. */
function inEmptyContext<T>(fn: () => T): T {
  return callIn(EMPTY, fn, undefined, [], currentState()) as T;
}

const link = (): ChainLink => ({ parent: undefined, holder: {} });

describe('the one async context', () => {
  it('keeps for the caller a slot bound lazily in the synchronous part of code it ran in a state of its own', () => {
    inEmptyContext(() => {
      expect(boundSlot()).toBeUndefined();
      const state: ContextState = { slot: undefined, chain: link(), invocation: undefined };
      const bound = callIn(state, () => currentSlot(), undefined, [], currentState());
      expect(boundSlot()).toBe(bound);
      // The state the code ran in is gone; the caller's chain (none) is back.
      expect(currentChain()).toBeUndefined();
    });
    inEmptyContext(() => {
      const bound = runInChain(link(), () => currentSlot());
      expect(boundSlot()).toBe(bound);
      expect(currentChain()).toBeUndefined();
    });
  });

  it('does not hand the caller a slot that code ran with on purpose, nor one it bound after an await', async () => {
    inEmptyContext(() => {
      runWithSlot({ sessions: new Map() }, () => currentSlot());
      expect(boundSlot()).toBeUndefined();
    });
    await inEmptyContext(async () => {
      await runInChain(link(), async () => {
        await Promise.resolve();
        currentSlot();
      });
      expect(boundSlot()).toBeUndefined();
    });
  });

  it('changes one part of the state and keeps the other two', async () => {
    const invocation = { options: {}, replyHeaders: {} };
    const chain = link();
    await inEmptyContext(async () => {
      const slot = currentSlot();
      await runWithInvocation(invocation, () =>
        runInChain(chain, async () => {
          await Promise.resolve();
          expect([boundSlot(), currentChain(), currentInvocationContext()]).toEqual([slot, chain, invocation]);
          const other = { sessions: new Map() };
          runWithSlot(other, () => expect([boundSlot(), currentChain(), currentInvocationContext()]).toEqual([other, chain, invocation]));
        }),
      );
      expect([boundSlot(), currentChain(), currentInvocationContext()]).toEqual([slot, undefined, undefined]);
    });
  });

  it('gives the caller of a @method the session its body opened, when the caller had none', async () => {
    await freshRuntime();
    const counter = await inEmptyContext(async () => {
      const made = Counter.create({}, { id: 'lazy-session' });
      await currentSession().commit();
      return made;
    });
    await inEmptyContext(async () => {
      // The call's body writes first: its write opens this context's session.
      const pending = counter.increment();
      expect(currentSession().pendingCount).toBe(1);
      await pending;
      expect((await currentSession().commit()).committed.map((r) => r.objectId)).toEqual(['lazy-session']);
    });
  });
});
