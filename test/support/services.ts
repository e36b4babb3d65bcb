import { OaasObject, method, service, transient, field } from '../../src/index.js';

/** Waits on the global timer, so tests under fake timers (`vi.useFakeTimers()`) move these methods' waits by hand. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The services the core suites exercise. */
@service('Counter', { package: 'test' })
export class Counter extends OaasObject {
  count = 0;
  history: number[] = [];
  _scratch = 'not state';

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    this.history.push(by);
    return this.count;
  }

  /** Changes the state, then fails. */
  @method()
  async incrementThenFail(by: number): Promise<never> {
    this.count += by;
    this.history.push(by);
    await sleep(1);
    throw new RangeError(`refused ${by}`);
  }

  /** Reads, waits, writes: interleaving would lose updates. */
  @method()
  async slowIncrement(ms: number): Promise<number> {
    const before = this.count;
    await sleep(ms);
    this.count = before + 1;
    this.history.push(1);
    return this.count;
  }

  /** Calls another method of the same object (re-entrant). */
  @method()
  async double(): Promise<number> {
    await this.increment(this.count);
    return this.count;
  }

  /** A -> B -> A: asks `other` to call back into this object. */
  @method()
  async pingVia(other: Counter): Promise<number> {
    await other.pong(this);
    return this.count;
  }

  @method()
  async pong(back: Counter): Promise<void> {
    this.count += 10;
    await back.increment(100);
  }

  /** Persists each step; fails after `failAt` steps. */
  @method()
  async steps(total: number, failAt: number): Promise<void> {
    for (let i = 1; i <= total; i++) {
      this.count += 1;
      if (i === failAt) throw new Error(`step ${i} failed`);
      await this.checkpoint();
    }
  }

  @method({ timeoutMs: 30 })
  async tooSlow(): Promise<void> {
    this.count += 1;
    await sleep(120);
    this.count += 1;
  }
}

@service('Profile', { package: 'test' })
export class Profile extends OaasObject {
  name = '';
  tags: string[] = [];
  address: { city: string; zip?: string } = { city: '' };
  scores = new Map<string, number>();
  seen = new Set<string>();
  birthday = new Date(0);
  avatar = new Uint8Array(4);
  friend: unknown = null;
  @field({ key: 'nick_name' }) nickname = '';
  @transient() cache = new Map<string, unknown>();
}

@service('Account', { package: 'test' })
export class Account extends OaasObject {
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
