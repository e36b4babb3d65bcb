// A member that owns an object holds changes it has not flushed yet, and is paused (SIGSTOP)
// past its lease. Another member takes the object over and commits increments of its own. The
// paused one, resumed, tries to flush: its commit is fenced, reported through onCommitError with
// the object among the discarded, and never written: the store keeps the new owner's value.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, unavailable, type TestServer } from '../../support/servers.js';
import { Counter } from './fixtures/services.js';
import { COUNTER, KINDS, Member, StoreReader, invoke, killMembersAfterEach, objectOwnedBy, openMembership, ownerOf, seed, settled, waitUntil, type Invocation } from './harness.js';

killMembersAfterEach();

const LEASE_MS = 1000;
/** The paused owner's increments are this big, the new owner's 1: the stored value tells whose landed. */
const STALE_BY = 1000;
const candidates = Array.from({ length: 40 }, (_, i) => `p${i}`);

for (const kind of KINDS) {
  const reason = await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} cluster paused-owner suite skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`a paused owner with unflushed changes on ${kind}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    });

    it('is taken over after its lease; resumed, its stale changes are fenced, reported as discarded and never written', { timeout: 40_000 }, async () => {
      const store = await server.freshStore();
      await seed(store, () => {
        for (const id of candidates) Counter.create({}, { id });
      });
      const [a, b] = await Promise.all([Member.start(store, 'a', LEASE_MS), Member.start(store, 'b', LEASE_MS)]);
      await settled([a, b]);
      const membership = openMembership(kind, store);
      const reader = await StoreReader.open(store);
      try {
        const id = await objectOwnedBy(membership, a, COUNTER, candidates, (objectId) => invoke(a.url, COUNTER, objectId, 'increment', [0]));
        const ref = `${COUNTER}/0/${id}`;
        const base = (await reader.field(COUNTER, id, 'count')) as number;

        await a.command('auto-commit', { on: false });
        const { results } = await a.command<{ results: number[] }>('increment', { objectId: id, by: STALE_BY, times: 3 });
        expect(results).toEqual([base + STALE_BY, base + 2 * STALE_BY, base + 3 * STALE_BY]);
        expect((await a.stats()).ownedObjects).toBeGreaterThan(0);
        expect(await reader.field(COUNTER, id, 'count')).toBe(base);
        a.child.signal('SIGSTOP');
        const stoppedAt = performance.now();

        // Through B: forwarded to the stopped owner at first (no reply), served by B once it took the slot over.
        let bAcked = 0;
        let bUnknown = 0;
        const replies: string[] = [];
        const tally = (reply: Invocation): boolean => {
          replies.push(reply.detail);
          if (reply.outcome === 'acknowledged') bAcked += 1;
          else if (reply.outcome === 'unknown') bUnknown += 1;
          return reply.outcome === 'acknowledged';
        };
        await waitUntil(async () => tally(await invoke(b.url, COUNTER, id, 'increment', [1], LEASE_MS)), 10 * LEASE_MS, `${id} through b`);
        const takeoverMs = performance.now() - stoppedAt;
        for (let i = 0; i < 3; i++) tally(await invoke(b.url, COUNTER, id, 'increment', [1]));
        const owners = await membership.owners();
        const bStats = await b.stats();
        const afterTakeover = (await reader.field(COUNTER, id, 'count')) as number;

        a.child.signal('SIGCONT');
        await a.command('auto-commit', { on: true });
        const flush = await a.command<{ error?: { code: string } }>('commit-all');
        const fenced = await a.waitForEvent((e) => e.event === 'commit-error' && e.code === 'OAAS_ERR_COMMIT_FENCED', 10_000);
        const aStats = await a.stats();
        // Give a late write of the stale changes every chance to show.
        await sleep(3 * 100 + LEASE_MS);
        const afterResume = (await reader.field(COUNTER, id, 'count')) as number;
        const codes = [await a.stop(), await b.stop()];
        const afterExit = (await reader.field(COUNTER, id, 'count')) as number;

        console.log(
          `${kind} paused owner: taken over ${Math.round(takeoverMs)} ms after SIGSTOP (lease ${LEASE_MS} ms); b's replies ${replies.join(', ')}; ` +
            `store ${base} -> ${afterTakeover} -> ${afterResume} -> ${afterExit}; a's commitAll ${JSON.stringify(flush)}; report ${JSON.stringify(fenced)}; ` +
            `a fencedCommits ${aStats.fencedCommits}, b takeovers ${bStats.takeovers}`,
        );
        expect(codes, `${a.child.stderr}\n${b.child.stderr}`).toEqual([0, 0]);
        expect(ownerOf(owners, COUNTER, id)).toBe('b');
        expect(takeoverMs).toBeGreaterThan(LEASE_MS / 2);
        // B's acknowledged increments (and maybe those whose replies were lost), none of A's, before and after A resumed.
        for (const value of [afterTakeover, afterResume, afterExit]) {
          expect(value).toBeGreaterThanOrEqual(base + bAcked);
          expect(value).toBeLessThanOrEqual(base + bAcked + bUnknown);
        }
        expect(fenced.discarded).toContain(ref);
        expect(bStats.takeovers, 'getStats().cluster.takeovers counts the slot taken from the paused member').toBeGreaterThan(0);
      } finally {
        await Promise.allSettled([membership.close(), reader.close()]);
      }
    });
  });
}
