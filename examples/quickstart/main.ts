/**
 * Quick start: a durable counter and an atomic transfer.
 *
 * No store is configured, so state goes to the default `sqlite:.oaas/state.db`
 * (relative to the current directory). Run it twice: the count keeps growing.
 *
 *     npx tsx examples/quickstart/main.ts
 */
import {
  ObjectNotFoundError,
  OaasObject,
  method,
  service,
  sessionScope,
  shutdown,
  type StateInit,
} from '../../src/index.js';

@service('Counter', { package: 'quickstart' })
class Counter extends OaasObject {
  count = 0;

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}

@service('Account', { package: 'quickstart' })
class Account extends OaasObject {
  balance = 0;

  @method()
  async deposit(amount: number): Promise<number> {
    this.balance += amount;
    return this.balance;
  }

  @method()
  async withdraw(amount: number): Promise<number> {
    if (amount > this.balance) throw new Error(`insufficient funds: ${this.balance} < ${amount}`);
    this.balance -= amount;
    return this.balance;
  }
}

/** A class `load` and `create` can be called on. */
type ServiceClass<T extends OaasObject> = (abstract new () => T) & Pick<typeof OaasObject, 'create' | 'load'>;

/** Loads the object, or creates it on the first run. */
async function loadOrCreate<T extends OaasObject>(cls: ServiceClass<T>, id: string, init: StateInit<T>): Promise<T> {
  try {
    return await cls.load(id);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    return cls.create(init, { id });
  }
}

async function main(): Promise<void> {
  // 1. A counter that survives restarts.
  const counter = await loadOrCreate(Counter, 'counter-1', {});
  const count = await counter.increment();
  console.log(`counter-1 is at ${count} (run again and it keeps counting)`);

  // 2. Two accounts and a transfer that commits both sides in one transaction.
  const alice = await loadOrCreate(Account, 'alice', { balance: 100 });
  const bob = await loadOrCreate(Account, 'bob', { balance: 0 });
  await sessionScope(async () => {
    await alice.withdraw(10);
    await bob.deposit(10);
  });
  console.log(`transferred 10: alice has ${alice.balance}, bob has ${bob.balance}`);

  // 3. A transfer that fails half-way: the scope rolls back bob's deposit too.
  try {
    await sessionScope(async () => {
      await bob.deposit(1_000_000);
      await alice.withdraw(1_000_000);
    });
  } catch (error) {
    console.log(`transfer refused (${(error as Error).message}); bob still has ${bob.balance}`);
  }

  // Flush what is still pending and close the store.
  await shutdown();
}

await main();
