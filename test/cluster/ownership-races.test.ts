/**
 * Races between a member's calls and the changes to what it owns, forced on a real PostgreSQL
 * with row and table locks taken by the test (nothing in the product is paused or mocked):
 * - a scope loading an object while its slot is handed over, so that the handover ends (and
 *   turns the scope's live instance into a forwarding one) after the scope took it and before it
 *   commits: the scope must fail and run again, never succeed without its change;
 * - a call forwarded from inside the scope holding such an instance: refused, since it would run
 *   on the new owner outside the scope's rollback;
 * - a heartbeat whose answer was read before a slot the member was taking was granted: the
 *   member keeps that slot (and its live objects), rather than taking it for lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { slotOf } from '../../src/cluster/slots.js';
import { resolveConfig } from '../../src/config.js';
import { FencedError, type CommitErrorEvent } from '../../src/index.js';
import { coreOf } from '../../src/object/oaas-object.js';
import { OaasRuntime } from '../../src/runtime/oaas-runtime.js';
import { Counter } from '../remote/fixtures/services.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { settled, startMember, stopMembers, type Member } from './support/in-process-cluster.js';

const CLS = 'remote.Counter';
const keyOf = (objectId: string): { clsId: string; partitionId: number; objectId: string } => ({ clsId: CLS, partitionId: 0, objectId });

/** A connection of the test's own that holds locks in an open transaction. */
class Locker {
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string): Promise<Locker> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('BEGIN');
    return new Locker(client);
  }

  query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    return this.client.query(sql, params);
  }

  async release(): Promise<void> {
    await this.client.query('COMMIT');
    await this.client.end();
  }
}

/** Statements of the store and the membership, as `pg_stat_activity` shows them, to wait for. */
const STATEMENT = {
  read: 'SELECT cls_id, partition_id, object_id, version, state, raw FROM oaas_objects WHERE%',
  release: '%UPDATE oaas_slots s SET owner = NULL%',
  acquire: '%INSERT INTO oaas_slots%',
  heartbeat: '%FROM me LEFT JOIN oaas_slots%',
} as const;

/** Waits (bounded) until a statement like `pattern` waits for a lock in the store's database. */
async function waiting(url: string, pattern: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const started = performance.now();
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
        [pattern],
      );
      if (Number(rows[0]!.n) > 0) return;
      if (performance.now() - started > 10_000) throw new Error(`no statement like ${pattern} waiting for a lock after 10 s`);
      await sleep(10);
    }
  } finally {
    await client.end();
  }
}

/** A promise and the function that resolves it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const reason = await unavailable('postgres');
if (reason !== undefined) console.log(`ownership races skipped: ${reason}`);

describe.skipIf(reason !== undefined)('ownership races on postgres', () => {
  let server: TestServer;
  const members: Member[] = [];
  const readers: OaasRuntime[] = [];
  const lockers: Locker[] = [];
  beforeAll(async () => {
    server = (await startServer('postgres'))!;
  }, 60_000);
  afterAll(async () => {
    await server.destroy();
  });
  afterEach(async () => {
    await Promise.allSettled(lockers.splice(0).map((l) => l.release()));
    await stopMembers(members);
    for (const runtime of readers.splice(0)) await runtime.shutdown();
  });

  /** A runtime outside the cluster on the same store. */
  function plain(store: string): OaasRuntime {
    const runtime = new OaasRuntime(resolveConfig({ store, autoCommit: false, logLevel: 'silent' }, {}));
    readers.push(runtime);
    return runtime;
  }

  async function storedCount(store: string, id: string): Promise<number> {
    return ((await plain(store).load(Counter, id, { fresh: true })) as Counter).count;
  }

  async function lock(store: string, sql: string, params: unknown[] = []): Promise<Locker> {
    const locker = await Locker.open(store);
    lockers.push(locker);
    await locker.query(sql, params);
    return locker;
  }

  function unlock(locker: Locker): Promise<void> {
    lockers.splice(lockers.indexOf(locker), 1);
    return locker.release();
  }

  /** A fresh store holding the counter `id` at 10, and one member on it (lease `leaseMs`) owning every slot. */
  async function memberWithCounter(id: string, leaseMs: number): Promise<{ store: string; member: Member }> {
    const store = await server.freshStore();
    const seeding = plain(store);
    seeding.create(Counter, { count: 10 }, { id });
    await seeding.commitAll();
    const member = await startMember(store, leaseMs);
    members.push(member);
    await settled(members, 15_000, 0);
    return { store, member };
  }

  /**
   * Runs `body` in a scope on `member` whose load of `id` is held in the store (the objects table
   * locked) while `id`'s slot is handed over, and whose handover is held (the slot row locked) until
   * the load has given the scope a live instance: the handover then ends, turning that instance into
   * a forwarding one under the scope. In the first run `before` runs on the live instance, `after`
   * once it has become a forwarding one; later runs call both on what they load. Resolves with the
   * scope's outcome and how many times it ran.
   */
  async function scopeRacingHandover(
    store: string,
    member: Member,
    id: string,
    retries: number,
    before: (counter: Counter, attempt: number) => Promise<unknown>,
    after: (counter: Counter, attempt: number) => Promise<unknown>,
  ): Promise<{ outcome: PromiseSettledResult<unknown>; attempts: number }> {
    const slot = slotOf(keyOf(id));
    const node = member.runtime.cluster!;
    const slotRow = await lock(store, 'SELECT slot FROM oaas_slots WHERE slot = $1 FOR UPDATE', [slot]);
    const table = await lock(store, 'LOCK TABLE oaas_objects IN ACCESS EXCLUSIVE MODE');
    const loaded = gate();
    const handedOver = gate();
    let attempts = 0;
    const scope = member.runtime.sessionScope(
      async () => {
        attempts += 1;
        const counter = (await member.runtime.load(Counter, id, undefined)) as Counter;
        await before(counter, attempts);
        if (attempts === 1) {
          expect(coreOf(counter).remote, 'the scope got the live instance').toBe(false);
          loaded.open();
          await handedOver.wait;
          expect(coreOf(counter).remote, 'the handover made it a forwarding instance').toBe(true);
        }
        await after(counter, attempts);
      },
      { retries },
    );
    const outcome = Promise.allSettled([scope]).then(([settledScope]) => settledScope);
    await waiting(store, STATEMENT.read); // the scope's read of the object
    const handover = node.handOver([slot]);
    await waiting(store, STATEMENT.release); // and the handover's release of the slot
    await unlock(table);
    await loaded.wait;
    await unlock(slotRow);
    expect(await handover).toEqual([slot]);
    // The handover ended while the scope held the object: the instance it holds is a forwarding one now.
    handedOver.open();
    return { outcome: await outcome, attempts };
  }

  it('a scope whose object is handed over while it loads it runs again rather than succeed without its change', { timeout: 30_000 }, async () => {
    const { store, member } = await memberWithCounter('h1', 10_000);

    const { outcome, attempts } = await scopeRacingHandover(
      store,
      member,
      'h1',
      2,
      (counter) => counter.increment(1),
      () => Promise.resolve(),
    );
    expect(outcome.status, String((outcome as PromiseRejectedResult).reason)).toBe('fulfilled');
    // The first run's change went with the instance; the second took the slot back and committed.
    expect(attempts).toBe(2);
    expect(await storedCount(store, 'h1')).toBe(11);
  });

  it('without retries such a scope rejects with FencedError and writes nothing', { timeout: 30_000 }, async () => {
    const { store, member } = await memberWithCounter('h2', 10_000);

    const { outcome, attempts } = await scopeRacingHandover(
      store,
      member,
      'h2',
      0,
      (counter) => counter.increment(1),
      () => Promise.resolve(),
    );
    expect(attempts).toBe(1);
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
    await member.runtime.commitAll();
    expect(await storedCount(store, 'h2')).toBe(10);
  });

  it('a call outside a scope on an object loaded while its slot is handed over waits for the handover, and its change is kept', { timeout: 30_000 }, async () => {
    const { store, member } = await memberWithCounter('h0', 10_000);
    const slot = slotOf(keyOf('h0'));
    const slotRow = await lock(store, 'SELECT slot FROM oaas_slots WHERE slot = $1 FOR UPDATE', [slot]);
    const table = await lock(store, 'LOCK TABLE oaas_objects IN ACCESS EXCLUSIVE MODE');
    let answered = false;
    const call = (async () => {
      const counter = (await member.runtime.load(Counter, 'h0', undefined)) as Counter;
      const count = await counter.increment(1);
      answered = true;
      return count;
    })();
    await waiting(store, STATEMENT.read); // the load's read of the object
    const handover = member.runtime.cluster!.handOver([slot]);
    await waiting(store, STATEMENT.release); // the handover, past its look at the live objects, releasing the slot
    await unlock(table);
    // The load has read the object; a call on the instance it made would answer at once.
    await sleep(300);
    expect(answered, 'the call waits for the handover').toBe(false);
    await unlock(slotRow);
    expect(await handover).toEqual([slot]);
    expect(await call).toBe(11);
    await member.runtime.commitAll();
    expect(await storedCount(store, 'h0')).toBe(11);
  });

  const changes: [string, (counter: Counter) => Promise<unknown>][] = [
    ['a method called', (counter) => counter.increment(1)],
    [
      'an assignment',
      async (counter) => {
        counter.count += 1;
      },
    ],
  ];
  it.each(changes)('%s in a scope on an instance that moved away under it is refused, not run on the new owner outside the scope', { timeout: 60_000 }, async (_, change) => {
    const store = await server.freshStore();
    const a = await startMember(store, 5000);
    members.push(a);
    const b = await startMember(store, 5000);
    members.push(b);
    await settled(members, 20_000, 500);
    // An object whose slot b owns (and prefers), and another in the same slot: a scope on a that loads the
    // other one moves the slot to a, so that a's handover of it leaves it free for b, the member it prefers.
    const ids = Array.from({ length: 5000 }, (_, i) => `f${i}`);
    const id = ids.find((candidate) => b.runtime.cluster!.ownsKey(keyOf(candidate)))!;
    const sibling = ids.find((candidate) => candidate !== id && slotOf(keyOf(candidate)) === slotOf(keyOf(id)))!;
    const seeding = plain(store);
    seeding.create(Counter, { count: 10 }, { id });
    seeding.create(Counter, { count: 0 }, { id: sibling });
    await seeding.commitAll();
    await a.runtime.sessionScope(async () => {
      await a.runtime.load(Counter, sibling, undefined);
    });
    expect(a.runtime.cluster!.ownsKey(keyOf(id))).toBe(true);

    const { outcome, attempts } = await scopeRacingHandover(
      store,
      a,
      id,
      2,
      () => Promise.resolve(),
      async (counter, attempt) => {
        await change(counter);
        // The first run is refused before its change is made anywhere; the second makes it on the object moved back here.
        expect(attempt).toBe(2);
        expect(counter.count).toBe(11);
      },
    );
    expect(outcome.status, String((outcome as PromiseRejectedResult).reason)).toBe('fulfilled');
    expect(attempts).toBe(2);
    await a.runtime.commitAll();
    await b.runtime.commitAll();
    // Once, from the scope's second run: the first one's change was not made on b.
    expect(await storedCount(store, id)).toBe(11);
  });

  it('a heartbeat answered from before a slot was taken does not lose that slot', { timeout: 30_000 }, async () => {
    // A long lease: no round of its own runs during the test.
    const { store, member } = await memberWithCounter('t1', 30_000);
    const reports: CommitErrorEvent[] = [];
    member.runtime.onCommitError((report) => reports.push(report));
    const node = member.runtime.cluster!;
    const slot = slotOf(keyOf('t1'));
    expect(await node.handOver([slot])).toEqual([slot]);

    // The slot is free. A load takes it; its acquire renews the lease first, then waits for the slot's row.
    const slotRow = await lock(store, 'SELECT slot FROM oaas_slots WHERE slot = $1 FOR UPDATE', [slot]);
    const loading = member.runtime.load(Counter, 't1', undefined);
    await waiting(store, STATEMENT.acquire);
    // A heartbeat now reads the slots as they were before that acquire, then waits for the member's row.
    const beat = node.renew();
    await waiting(store, STATEMENT.heartbeat);
    await unlock(slotRow);
    const counter = (await loading) as Counter;
    await beat;
    expect(coreOf(counter).remote).toBe(false);
    expect(node.ownsKey(keyOf('t1')), 'the slot just taken is still owned after the heartbeat').toBe(true);
    expect(member.runtime.getStats().cluster!.ownedSlots).toBe(256);
    await counter.increment(1);
    await member.runtime.commitAll();
    expect(reports).toEqual([]);
    expect(await storedCount(store, 't1')).toBe(11);
  });

  it('a heartbeat answered from before a slot was released does not bring that slot back', { timeout: 30_000 }, async () => {
    const { store, member } = await memberWithCounter('t2', 30_000);
    const reports: CommitErrorEvent[] = [];
    member.runtime.onCommitError((report) => reports.push(report));
    const node = member.runtime.cluster!;
    const slot = slotOf(keyOf('t2'));

    // A heartbeat reads the slots (this one still the member's), then waits for the member's row.
    const memberRow = await lock(store, 'SELECT id FROM oaas_members WHERE id = $1 FOR UPDATE', [member.runtime.getStats().cluster!.memberId]);
    const beat = node.renew();
    await waiting(store, STATEMENT.heartbeat);
    // Meanwhile the slot is handed over (released): the heartbeat's answer is older than that.
    expect(await node.handOver([slot])).toEqual([slot]);
    await unlock(memberRow);
    await beat;
    // The round took the free slot again, under a new epoch, so the member's commits in it are accepted.
    const counter = (await member.runtime.load(Counter, 't2', undefined)) as Counter;
    await counter.increment(1);
    await member.runtime.commitAll();
    expect(reports.map((r) => r.error.message)).toEqual([]);
    expect(await storedCount(store, 't2')).toBe(11);
  });
});
