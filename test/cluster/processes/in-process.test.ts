// Three members on one PostgreSQL (then Redis) store, write-behind on, each running in-process
// increments of ten hot objects they all share. Each object has one owner; a call elsewhere is
// forwarded to it and resolves only once the owner committed, so every resolved call is in the
// store once the members shut down. Then: the first member to join takes every slot and hands the
// others their share in its next rounds, which it must also do while its objects are busy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, unavailable, type TestServer } from '../../support/servers.js';
import { Counter } from './fixtures/services.js';
import { COUNTER, KINDS, Member, StoreReader, killMembersAfterEach, sum, seed, settled, type ClusterStats } from './harness.js';

killMembersAfterEach();

const MEMBERS = 3;
const LEASE_MS = 1500;
/** How long each member runs its loop. */
const RUN_MS = 3000;
const WORKERS = 4;
const ids = Array.from({ length: 10 }, (_, i) => `hot${i}`);

interface LoopReport {
  acked: Record<string, number>;
  failed: Record<string, number>;
  errors: Record<string, number>;
  cluster: ClusterStats;
}

for (const kind of KINDS) {
  const reason = await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} cluster in-process suite skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`${MEMBERS} members calling shared objects in process on ${kind}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    });

    it('stores every acknowledged increment, forwarding calls to the owner of each object', { timeout: 40_000 }, async () => {
      const store = await server.freshStore();
      await seed(store, () => {
        for (const id of [...ids, 'assigned']) Counter.create({}, { id });
      });
      const members = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => Member.start(store, `m${i}`, LEASE_MS)));
      await settled(members);

      const reports = await Promise.all(members.map((m) => m.command<LoopReport>('loop', { ids, ms: RUN_MS, workers: WORKERS })));
      // Outside a method, only the owner's instance takes an assignment; the others refuse it.
      const assignments = [];
      for (const m of members) assignments.push(await m.command<{ assigned: boolean; error?: { name: string; code: string } }>('assign', { objectId: 'assigned', value: 7 }));
      const codes = await Promise.all(members.map((m) => m.stop()));
      expect(codes, members.map((m) => m.child.stderr).join('\n')).toEqual(members.map(() => 0));

      const reader = await StoreReader.open(store);
      const stored = await reader.fields(COUNTER, ids, 'count');
      const assignedStored = await reader.field(COUNTER, 'assigned', 'count');
      await reader.close();

      const acked = new Map(ids.map((id) => [id, sum(reports.map((r) => r.acked[id]!))]));
      const failed = sum(reports.flatMap((r) => Object.values(r.failed)));
      const forwarded = sum(reports.map((r) => r.cluster.forwardedCalls));
      const owners = reports.filter((r) => r.cluster.ownedSlots > 0).length;
      console.log(
        `${kind} in process: ${sum(acked.values())} increments acknowledged (${reports.map((r) => sum(Object.values(r.acked))).join(' + ')}), ` +
          `${failed} failed ${JSON.stringify(reports.map((r) => r.errors))}, stored ${sum([...stored.values()] as number[])}; ` +
          `forwarded ${reports.map((r) => r.cluster.forwardedCalls).join(' + ')}, owned slots ${reports.map((r) => r.cluster.ownedSlots).join('/')}, ` +
          `owned objects ${reports.map((r) => r.cluster.ownedObjects).join('/')}, takeovers ${reports.map((r) => r.cluster.takeovers).join(' + ')}; ` +
          `commit errors ${JSON.stringify(members.map((m) => m.events.filter((e) => e.event === 'commit-error').map((e) => [e.code, e.source, (e.discarded as string[]).length])))}`,
      );

      expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(acked));
      expect(failed, JSON.stringify(reports.map((r) => r.errors))).toBe(0);
      expect(sum(acked.values())).toBeGreaterThan(0);
      expect(forwarded).toBeGreaterThan(0);
      expect(owners).toBeGreaterThan(1);

      // One member owns the object: its assignment lands; the two others get OwnedElsewhereError.
      expect(assignments.filter((a) => a.assigned)).toHaveLength(1);
      expect(assignments.filter((a) => !a.assigned).map((a) => [a.error?.name, a.error?.code])).toEqual([
        ['OwnedElsewhereError', 'OAAS_ERR_OWNED_ELSEWHERE'],
        ['OwnedElsewhereError', 'OAAS_ERR_OWNED_ELSEWHERE'],
      ]);
      expect(assignedStored).toBe(7);
    });

    it('hands busy objects over to members that joined, while all of them call them', { timeout: 40_000 }, async () => {
      const store = await server.freshStore();
      await seed(store, () => {
        for (const id of ids) Counter.create({}, { id });
      });
      const first = await Member.start(store, 'm0', LEASE_MS, { MEMBER_LOG: 'info' });
      await settled([first]);
      // The first member owns every slot; the load starts as soon as two more have joined, before it handed them their share.
      const members = [first, ...(await Promise.all(['m1', 'm2'].map((id) => Member.start(store, id, LEASE_MS))))];
      const reports = await Promise.all(members.map((m) => m.command<LoopReport>('loop', { ids, ms: 2 * RUN_MS, workers: WORKERS, yieldEvery: 1 })));
      const codes = await Promise.all(members.map((m) => m.stop()));
      const reader = await StoreReader.open(store);
      const stored = await reader.fields(COUNTER, ids, 'count');
      await reader.close();
      const acked = new Map(ids.map((id) => [id, sum(reports.map((r) => r.acked[id]!))]));
      console.log(
        `${kind} joined, then under load from all: ${sum(acked.values())} increments, stored ${sum([...stored.values()] as number[])}; at the end of the load ` +
          `owned slots ${reports.map((r) => r.cluster.ownedSlots).join('/')}, owned objects ${reports.map((r) => r.cluster.ownedObjects).join('/')}, ` +
          `handed over ${reports.map((r) => r.cluster.handovers).join('/')}`,
      );
      expect(codes).toEqual([0, 0, 0]);
      expect(Object.fromEntries(stored)).toEqual(Object.fromEntries(acked));
      expect(reports.every((r) => r.cluster.ownedSlots > 0)).toBe(true);
      // Of the ten objects, the fair share of the two that joined is about two thirds: some at least must have moved to them.
      if (reports[0]!.cluster.ownedObjects === ids.length) console.log('M0LOG', first.child.stderr.split('\n').filter((l) => !l.includes('"msg":"commit"')).slice(0, 60).join('\n'));
      expect(reports[0]!.cluster.ownedObjects, 'objects the first member still owns after the load').toBeLessThan(ids.length);
    });
  });
}
