import { describe, expect, it, vi } from 'vitest';
import {
  ConflictError,
  InvalidArgumentError,
  LockTimeoutError,
  ObjectNotFoundError,
  StoreError,
  commitAll,
  currentSession,
  runInSession,
  sessionScope,
} from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, holdInScope, shutdownAfterEach, tick } from '../support/runtime.js';
import { Account, Counter, Profile } from '../support/services.js';

shutdownAfterEach();

const ref = (objectId: string, clsId = 'test.Account') => ({ clsId, partitionId: 0, objectId });

async function accounts(store: RecordingStore, ...balances: number[]): Promise<Account[]> {
  await freshRuntime({ store });
  const list = balances.map((balance, i) => Account.create({ balance }, { id: `acc-${i}` }));
  await commitAll();
  store.batches.length = 0;
  return list;
}

describe('sessionScope', () => {
  it('commits creates, changes and deletes together in one transaction, then resolves with the result', async () => {
    const store = new RecordingStore();
    const [a, b, c] = await accounts(store, 100, 0, 5);
    const result = await sessionScope(async () => {
      await a!.withdraw(30);
      await b!.deposit(30);
      Account.create({ balance: 1 }, { id: 'opened' });
      await c!.delete();
      return 'moved';
    });
    expect(result).toBe('moved');
    expect(store.batches).toHaveLength(1);
    expect(store.batches[0]!.map((op) => `${op.kind}:${op.key.objectId}`).sort()).toEqual(['delete:acc-2', 'put:acc-0', 'put:acc-1', 'put:opened']);
    expect(entryValue(await store.get(ref('acc-0')), 'balance')).toBe(70);
  });

  it('writes nothing and restores every touched object when fn throws, rejecting with the original error', async () => {
    const store = new RecordingStore();
    const [a, b, c] = await accounts(store, 100, 0, 5);
    const p = Profile.create({ tags: ['keep'] }, { id: 'scoped-profile' });
    await commitAll();
    store.batches.length = 0;
    const original = new Error('abort transfer');
    const error = await sessionScope(async () => {
      await a!.withdraw(30);
      b!.balance += 30; // a plain write inside the scope is held and recorded too
      p.tags.push('drop');
      Account.create({ balance: 1 }, { id: 'never' });
      await c!.delete();
      throw original;
    }).catch((e: unknown) => e);
    expect(error).toBe(original);
    expect(store.batches).toHaveLength(0);
    expect([a!.balance, b!.balance, c!.balance]).toEqual([100, 0, 5]);
    expect(p.tags).toEqual(['keep']);
    expect(await Account.load('acc-2')).toBe(c);
    await expect(Account.load('never')).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(Account.create({}, { id: 'never' }).balance).toBe(0);
  });

  it('rolls back the same way when the commit itself fails, keeping earlier pending changes pending', async () => {
    const store = new RecordingStore();
    const [a, b] = await accounts(store, 100, 0);
    a!.balance = 90; // pending before the scope
    store.failNext(1, () => new StoreError('connection reset', { transient: true }));
    await expect(
      sessionScope(async () => {
        await a!.withdraw(10);
        await b!.deposit(10);
      }),
    ).rejects.toThrow('connection reset');
    expect([a!.balance, b!.balance]).toEqual([90, 0]);
    await commitAll();
    expect(entryValue(await store.get(ref('acc-0')), 'balance')).toBe(90);
    expect(entryValue(await store.get(ref('acc-1')), 'balance')).toBe(0);
  });

  it('holds touched objects until it ends: calls from other contexts wait, then see the committed state', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 100);
    const events: string[] = [];
    let end!: () => void;
    const ending = new Promise<void>((resolve) => (end = resolve));
    const scope = sessionScope(async () => {
      await a!.withdraw(60);
      events.push('scope withdrew');
      await ending;
      events.push('scope ends');
    });
    while (events.length === 0) await tick();
    const other = runInSession(async () => {
      const balance = await a!.withdraw(10);
      events.push(`other sees ${balance + 10}`);
    });
    // Turns of the event loop in which the other call would run if the scope did not hold the object.
    for (let i = 0; i < 10; i++) await tick();
    end();
    await scope;
    // The scope's commit is in the store before anyone else gets the object.
    expect(entryValue(await store.get(ref('acc-0')), 'balance')).toBe(40);
    await other;
    expect(events).toEqual(['scope withdrew', 'scope ends', 'other sees 40']);
    expect(store.batches).toHaveLength(1);
  });

  it('times out waiting for an object another scope holds, with the scope option lockTimeoutMs', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 100);
    const first = await holdInScope(() => a!.deposit(1));
    // The lock wait runs on the global setTimeout.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let outcome: unknown;
      const second = sessionScope(() => a!.deposit(1), { lockTimeoutMs: 25 }).then(
        () => (outcome = 'resolved'),
        (error: unknown) => (outcome = error),
      );
      await vi.advanceTimersByTimeAsync(24);
      expect(outcome).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await tick(); // lets the rejection reach the caller (setImmediate is not faked)
      expect(outcome).toBeInstanceOf(LockTimeoutError);
      await second;
    } finally {
      vi.useRealTimers();
      first.release();
      await first.done;
    }
    expect(a!.balance).toBe(101);
  });

  it('treats a nested scope as a savepoint', async () => {
    const store = new RecordingStore();
    const [a, b] = await accounts(store, 100, 0);
    await sessionScope(async () => {
      await a!.withdraw(10);
      await expect(
        sessionScope(async () => {
          await b!.deposit(500);
          await a!.withdraw(50);
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      expect([a!.balance, b!.balance]).toEqual([90, 0]);
      await sessionScope(() => b!.deposit(10));
      expect(store.batches).toHaveLength(0); // the inner success waits for the outer commit
    });
    expect(store.batches).toHaveLength(1);
    expect([entryValue(await store.get(ref('acc-0')), 'balance'), entryValue(await store.get(ref('acc-1')), 'balance')]).toEqual([90, 10]);

    // An outer failure undoes what an inner scope did.
    await expect(
      sessionScope(async () => {
        await sessionScope(() => b!.deposit(1000));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(b!.balance).toBe(10);
  });

  it('re-runs fn on fresh state after a ConflictError when retries allow', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 100);
    let runs = 0;
    const result = await sessionScope(
      async () => {
        runs += 1;
        if (runs === 1) {
          // Another process writes the account between our read and our commit.
          await store.apply([{ kind: 'put', key: a!.asRef(), expectedVersion: 1, set: new Map([['balance', new TextEncoder().encode('500')]]) }]);
        }
        return a!.withdraw(50);
      },
      { retries: 2 },
    );
    expect(runs).toBe(2);
    expect(result).toBe(450);
    expect(entryValue(await store.get(ref('acc-0')), 'balance')).toBe(450);
  });

  it('gives up with the ConflictError when retries are exhausted (and by default)', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 100);
    let version = 1;
    const clash = async () => {
      await store.apply([{ kind: 'put', key: a!.asRef(), expectedVersion: version, set: new Map([['balance', new TextEncoder().encode('7')]]) }]);
      version += 1;
      return a!.withdraw(1);
    };
    await expect(sessionScope(clash)).rejects.toBeInstanceOf(ConflictError);
    await expect(sessionScope(clash, { retries: 1 })).rejects.toBeInstanceOf(ConflictError);
  });

  it('re-runs after a LockTimeoutError when retries allow', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 100);
    const holder = await holdInScope(() => a!.deposit(1));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let runs = 0;
    try {
      const retried = sessionScope(
        async () => {
          runs += 1;
          // The holder lets go once the first attempt has timed out.
          if (runs === 2) holder.release();
          await a!.deposit(1);
        },
        { lockTimeoutMs: 25, retries: 3 },
      );
      await vi.advanceTimersByTimeAsync(25);
      await retried;
    } finally {
      vi.useRealTimers();
      holder.release();
      await holder.done;
    }
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(a!.balance).toBe(102);
  });

  it('passes its isolation level to the store and refuses commit() on its own session', async () => {
    const store = new RecordingStore();
    const [a] = await accounts(store, 1);
    await sessionScope(async (session) => {
      await a!.deposit(1);
      await expect(session.commit()).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(currentSession()).toBe(session);
    }, { isolation: 'serializable' });
    expect(store.applyOptions.at(-1)).toMatchObject({ isolation: 'serializable' });
  });

  it('creates objects in the scope partition', async () => {
    await freshRuntime();
    const created = await sessionScope(() => Counter.create({}, { id: 'in-p7' }), { partitionId: 7 });
    expect(created.partitionId).toBe(7);
  });
});
