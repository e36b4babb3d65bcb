// Three members serve ten counters over HTTP while clients invoke increments through random
// members; one member is killed (SIGKILL) in the middle. A 2xx reply means durable, whoever
// owned the object and whatever happened after; once the dead member's lease lapses, the
// survivors take its slots over and answer for every object.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { describeOnSharedStores } from '../../support/servers.js';
import { Counter } from './fixtures/services.js';
import { COUNTER, Member, StoreReader, Tallies, invoke, killMembers, killMembersAfterEach, openMembership, ownerOf, seed, settled, sum, waitUntil } from './harness.js';

killMembersAfterEach();

const MEMBERS = 3;
const LEASE_MS = 1000;
const WORKERS = 12;
/** The clients run this long; the kill comes at KILL_AT_MS. */
const RUN_MS = 5000;
const KILL_AT_MS = 1500;
const CALL_TIMEOUT_MS = 8000;
const ids = Array.from({ length: 10 }, (_, i) => `k${i}`);

await describeOnSharedStores((kind) => `a member killed under HTTP load on ${kind}`, (server, kind) => {

  it('loses no 2xx increment, and the survivors answer for every object once its lease lapses', { timeout: 45_000 }, async () => {
    const store = await server.freshStore();
    await seed(store, () => {
      for (const id of ids) Counter.create({}, { id });
    });
    const members = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => Member.start(store, `k${i}`, LEASE_MS)));
    await settled(members);
    const [victim, ...survivors] = members as [Member, ...Member[]];

    const membership = openMembership(kind, store);
    const owners = await membership.owners();
    await membership.close();
    const victimObjects = ids.filter((id) => ownerOf(owners, COUNTER, id) === victim.id);

    const tallies = new Tallies(ids);
    let alive = [...members];
    let killedAt = Infinity;
    /** Per object of the killed member: how long after the kill the first call sent after it was acknowledged. */
    const answeredAfterKill = new Map<string, number>();
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (performance.now() - started < RUN_MS) {
        const id = ids[Math.floor(Math.random() * ids.length)]!;
        const through = alive[Math.floor(Math.random() * alive.length)]!;
        const sentAt = performance.now();
        const reply = await invoke(through.url, COUNTER, id, 'increment', [1], CALL_TIMEOUT_MS);
        tallies.add(id, reply);
        if (reply.outcome === 'acknowledged' && sentAt > killedAt && victimObjects.includes(id) && !answeredAfterKill.has(id)) {
          answeredAfterKill.set(id, performance.now() - killedAt);
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, () => worker()));
    await sleep(KILL_AT_MS);
    const before = tallies.total('acknowledged');
    victim.child.signal('SIGKILL');
    killedAt = performance.now();
    alive = survivors;
    await victim.kill();
    await load;
    const takeoverMs = Math.max(...answeredAfterKill.values());

    // Every survivor answers for every object within a bound past the lease.
    const probes = await Promise.all(
      survivors.flatMap((member) =>
        ids.map(async (id) => {
          let last = '';
          await waitUntil(
            async () => {
              const reply = await invoke(member.url, COUNTER, id, 'increment', [1], CALL_TIMEOUT_MS);
              tallies.add(id, reply);
              last = reply.detail;
              return reply.outcome === 'acknowledged';
            },
            10 * LEASE_MS,
            `${id} through ${member.id} (last reply ${last})`,
          );
          return performance.now() - killedAt;
        }),
      ),
    );
    const answeredMs = Math.max(...probes);
    const stats = await Promise.all(survivors.map((m) => m.stats()));
    await killMembers();

    const reader = await StoreReader.open(store);
    const stored = await reader.fields(COUNTER, ids, 'count');
    await reader.close();
    const acknowledged = tallies.total('acknowledged');
    console.log(
      `${kind} SIGKILL: ${acknowledged} 2xx (${before} before the kill), ${tallies.total('unknown')} unknown, ${tallies.total('notSent')} not sent, ` +
        `${tallies.total('refused')} 409 (${tallies.describe()}); stored ${sum([...stored.values()] as number[])}; the killed member's ${victimObjects.length} objects answered again ` +
        `${Math.round(takeoverMs)} ms after the kill (lease ${LEASE_MS} ms; ${answeredAfterKill.size} seen), every object through every survivor by ${Math.round(answeredMs)} ms; takeovers ${stats.map((s) => s.takeovers).join(' + ')}, forwarded ${stats.map((s) => s.forwardedCalls).join(' + ')}`,
    );

    const perObject = ids.map((id) => ({ id, stored: stored.get(id) as number, ...tallies.byObject.get(id)! }));
    expect(perObject.filter((o) => o.stored < o.acknowledged), `objects missing acknowledged increments (counts two 2xx answered: ${tallies.answeredTwice()})`).toEqual([]);
    expect(perObject.filter((o) => o.stored > o.acknowledged + o.unknown), 'objects holding increments nobody acknowledged').toEqual([]);
    expect(before).toBeGreaterThan(0);
    // The killed member owned some of the objects: the survivors had slots to take over.
    expect(victimObjects.length).toBeGreaterThan(0);
    expect(answeredAfterKill.size, 'objects of the killed member acknowledged during the load after the kill').toBe(victimObjects.length);
    expect(takeoverMs).toBeLessThan(3 * LEASE_MS);
    expect(acknowledged).toBeGreaterThan(before);
    expect(answeredMs).toBeLessThan(10 * LEASE_MS);
    expect(sum(stats.map((s) => s.takeovers)), 'getStats().cluster.takeovers counts the slots taken from the killed member').toBeGreaterThan(0);
  });
});
