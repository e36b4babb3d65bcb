// Two accounts owned by two different members; scopes on a third member and on one of the owners
// transfer between them at the same time. A scope moves the slots of the objects it touches to
// its own process first, so the two compete for them; with retries every scope finishes, the
// total is conserved, and a scope that throws leaves both accounts as they were.
import { expect, it } from 'vitest';
import type { SlotOwner } from '../../../src/cluster/membership.js';
import { describeOnSharedStores } from '../../support/servers.js';
import { Account } from './fixtures/services.js';
import { ACCOUNT, Member, StoreReader, invoke, killMembersAfterEach, objectOwnedBy, openMembership, ownerOf, seed, settled } from './harness.js';

killMembersAfterEach();

const LEASE_MS = 1500;
const OPENING = 100;
/** Transfers per scope runner, and how many of them run at once in it. */
const TRANSFERS = 30;
const PARALLEL = 2;
const RETRIES = 20;
const candidates = Array.from({ length: 40 }, (_, i) => `acct${i}`);

interface TransferReport {
  started: number;
  ok: number;
  net: number;
  failures: Record<string, number>;
}

await describeOnSharedStores((kind) => `scopes across members on ${kind}`, (server, kind) => {
  /** Three members on accounts; `x` is owned by `a`, `y` by `b`. The caller closes `membership` and `reader`. */
  async function threeMembersWithAccounts() {
    const store = await server.freshStore();
    await seed(store, () => {
      for (const id of candidates) Account.create({ balance: OPENING }, { id });
    });
    const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((id) => Member.start(store, id, LEASE_MS)))) as [Member, Member, Member];
    await settled([a, b, c]);
    const membership = openMembership(kind, store);
    const reader = await StoreReader.open(store);
    const touch = (member: Member) => (objectId: string) => invoke(member.url, ACCOUNT, objectId, 'deposit', [0]);
    const x = await objectOwnedBy(membership, a, ACCOUNT, candidates, touch(a));
    const y = await objectOwnedBy(membership, b, ACCOUNT, candidates, touch(b), new Set([x]));
    return { a, b, c, membership, reader, x, y };
  }

  it('transfer atomically between objects owned elsewhere, from two members at once', { timeout: 45_000 }, async () => {
    const { a, b, c, membership, reader, x, y } = await threeMembersWithAccounts();
    try {
      const owners = await membership.owners();
      expect([ownerOf(owners, ACCOUNT, x), ownerOf(owners, ACCOUNT, y)]).toEqual(['a', 'b']);

      const started = performance.now();
      const reports = await Promise.all(
        [c, a].map((m) => m.command<TransferReport>('transfers', { a: x, b: y, n: TRANSFERS, parallel: PARALLEL, retries: RETRIES, ordered: true }, 40_000)),
      );
      const tookMs = performance.now() - started;
      const balances = [await reader.field(ACCOUNT, x, 'balance'), await reader.field(ACCOUNT, y, 'balance')] as [number, number];
      const stats = await Promise.all([a, b, c].map((m) => m.stats()));
      const ok = reports.reduce((n, r) => n + r.ok, 0);
      const net = reports.reduce((n, r) => n + r.net, 0);
      console.log(
        `${kind} scopes: ${ok} of ${2 * TRANSFERS} transfers committed in ${Math.round(tookMs)} ms (failures ${JSON.stringify(reports.map((r) => r.failures))}); ` +
          `balances ${balances.join(' + ')}; handovers ${stats.map((s) => s.handovers).join(' + ')}, forwarded ${stats.map((s) => s.forwardedCalls).join(' + ')}`,
      );
      for (const report of reports) {
        expect(report.started).toBe(TRANSFERS);
        expect(report.ok + Object.values(report.failures).reduce((n, k) => n + k, 0)).toBe(report.started);
      }
      expect(ok).toBeGreaterThanOrEqual(0.8 * 2 * TRANSFERS);
      // Atomic: conserved in total, and each account moved by exactly the committed transfers.
      expect(balances[0] + balances[1]).toBe(2 * OPENING);
      expect(balances).toEqual([OPENING - net, OPENING + net]);

      // A scope that throws after changing one account: neither changes, in the store or in the live instances.
      const failing = await c.command<{ threw: boolean; error?: { name: string } }>('failing-transfer', { from: x, to: y });
      expect(failing).toMatchObject({ threw: true, error: { name: 'RangeError' } });
      expect([await reader.field(ACCOUNT, x, 'balance'), await reader.field(ACCOUNT, y, 'balance')]).toEqual(balances);
      const live = await Promise.all([x, y].map((id) => invoke(b.url, ACCOUNT, id, 'deposit', [0])));
      expect(live.map((r) => r.value)).toEqual(balances);

      expect(await Promise.all([a, b, c].map((m) => m.stop()))).toEqual([0, 0, 0]);
    } finally {
      await Promise.allSettled([membership.close(), reader.close()]);
    }
  });

  it('holding objects it moved here for longer than the lease, commits, and its member keeps its slots', { timeout: 30_000 }, async () => {
    const { a, b, c, membership, reader, x, y } = await threeMembersWithAccounts();
    try {
      const slotsOf = (owners: ReadonlyMap<number, SlotOwner>, id: string): number => [...owners.values()].filter((o) => o.owner === id).length;
      const before = slotsOf(await membership.owners(), 'c');

      // Longer than the lease, shorter than lockTimeoutMs (5000): nothing in it should time out.
      const holdMs = Math.round(2.5 * LEASE_MS);
      const result = await c.command<{ ok: boolean; ms: number; error?: { code: string; message: string } }>('slow-transfer', { from: x, to: y, amount: 10, holdMs });
      const after = slotsOf(await membership.owners(), 'c');
      const stats = await Promise.all([a, b, c].map((m) => m.stats()));
      console.log(
        `${kind} scope held ${holdMs} ms: ${JSON.stringify(result)}; c owned ${before} slots before, ${after} after; ` +
          `takeovers ${stats.map((s) => s.takeovers).join(' + ')}, fenced commits ${stats.map((s) => s.fencedCommits).join(' + ')}`,
      );
      expect(result).toMatchObject({ ok: true });
      expect([await reader.field(ACCOUNT, x, 'balance'), await reader.field(ACCOUNT, y, 'balance')]).toEqual([OPENING - 10, OPENING + 10]);
      expect(after).toBeGreaterThanOrEqual(before);
    } finally {
      await Promise.allSettled([membership.close(), reader.close()]);
    }
  });
});
