/**
 * The membership conformance suite, with the fenced commits that rest on
 * it: every shared store runs it, so both keep the promises of
 * `src/cluster/membership.ts` and of `ApplyOptions.fence`. Leases are short
 * (500 ms) and waits are real: the store's clock is the point.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Membership, SlotLease } from '../../src/cluster/membership.js';
import { SLOT_COUNT, slotOf } from '../../src/cluster/slots.js';
import { FencedError, InvalidArgumentError, StoreError } from '../../src/errors.js';
import type { CommitFence, ObjectKey, Store, WriteOp } from '../../src/stores/store.js';
import { rejection } from '../support/promises.js';

/** What a backend's test file hands the suite: an empty store, a membership in it, and more memberships in it as other processes would open. */
export interface MembershipUnderTest {
  readonly membership: Membership;
  readonly store: Store;
  /** Another membership on the same store, with its own connection. */
  readonly another: () => Membership;
  readonly cleanup?: () => Promise<void>;
}

const LEASE = 500;
const url = (id: string): string => `http://${id}.test:8080`;
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | undefined): string | undefined => (value === undefined ? undefined : new TextDecoder().decode(value));

/** An object id in slot `slot` (slots are a hash: search for one). */
function keyIn(slot: number, tag = 'k'): ObjectKey {
  for (let i = 0; ; i++) {
    const key = { clsId: 'cls', partitionId: 0, objectId: `${tag}-${i}` };
    if (slotOf(key) === slot) return key;
  }
}

const put = (key: ObjectKey, value: string): WriteOp => ({ kind: 'put', key, set: new Map([['v', bytes(value)]]) });
const fenceOf = (memberId: string, leases: readonly SlotLease[] | undefined): CommitFence => ({
  memberId,
  slots: (leases ?? []).map(({ slot, epoch }) => ({ slot, epoch })),
});
const slotsOf = (leases: readonly SlotLease[] | undefined): number[] | undefined => leases?.map((l) => l.slot);

async function expectInvalid(promise: Promise<unknown>, argument: string | RegExp): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).code).toBe('OAAS_ERR_ARGUMENT_INVALID');
  expect((error as InvalidArgumentError).argument).toMatch(argument);
}

async function expectFenced(promise: Promise<unknown>, memberId: string, slots: readonly { slot: number; epoch: number }[]): Promise<void> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(FencedError);
  expect((error as FencedError).code).toBe('OAAS_ERR_COMMIT_FENCED');
  expect((error as FencedError).memberId).toBe(memberId);
  expect([...(error as FencedError).slots].sort((a, b) => a.slot - b.slot)).toEqual(slots);
}

/** Registers the contract for one backend; `make` gives each test its own empty store. */
export function describeMembershipContract(name: string, make: () => Promise<MembershipUnderTest>): void {
  describe(`${name} membership contract`, () => {
    let subject: MembershipUnderTest;
    let m: Membership;
    let store: Store;
    const opened: Membership[] = [];
    const another = (): Membership => {
      const next = subject.another();
      opened.push(next);
      return next;
    };

    beforeEach(async () => {
      subject = await make();
      m = subject.membership;
      store = subject.store;
      await m.open();
      await store.open();
    });

    afterEach(async () => {
      vi.useRealTimers();
      await Promise.all([m.close(), store.close(), ...opened.splice(0).map((o) => o.close())]);
      await subject.cleanup?.();
    });

    describe('join and incarnations', () => {
      it('gives a new id incarnation 1 and each rejoin one more; ids count separately', async () => {
        expect(await m.join({ id: 'a', url: url('a') }, LEASE)).toBe(1);
        expect(await m.join({ id: 'a', url: url('a') }, LEASE)).toBe(2);
        expect(await another().join({ id: 'a', url: url('a2') }, LEASE)).toBe(3);
        expect(await m.join({ id: 'b', url: url('b') }, LEASE)).toBe(1);
        await m.leave('a', 3);
        expect(await m.join({ id: 'a', url: url('a') }, LEASE)).toBe(4);
      });

      it('lists live members with their url, incarnation and a lease end by the store clock', async () => {
        const before = Date.now();
        await m.join({ id: 'b', url: url('b') }, 60_000);
        await m.join({ id: 'a', url: url('a') }, 60_000);
        await m.join({ id: 'a', url: 'https://a.example/base' }, 60_000);
        const after = Date.now();
        const members = await another().members();
        expect(members.map(({ id, url: u, incarnation }) => ({ id, url: u, incarnation }))).toEqual([
          { id: 'a', url: 'https://a.example/base', incarnation: 2 },
          { id: 'b', url: url('b'), incarnation: 1 },
        ]);
        // The server runs on this machine, so its clock and ours agree to within a second.
        for (const member of members) {
          expect(member.expiresAt).toBeGreaterThan(before + 60_000 - 1000);
          expect(member.expiresAt).toBeLessThan(after + 60_000 + 1000);
        }
      });

      it('ends the previous incarnation at a rejoin: its heartbeat and acquire get undefined, its slots are free at once', async () => {
        const first = await m.join({ id: 'a', url: url('a') }, 60_000);
        expect(slotsOf(await m.acquire('a', first, [5, 6], 60_000))).toEqual([5, 6]);
        const second = await another().join({ id: 'a', url: url('a') }, 60_000);
        expect(await m.heartbeat('a', first, 60_000)).toBeUndefined();
        expect(await m.acquire('a', first, [7], 60_000)).toBeUndefined();
        expect(await m.heartbeat('a', second, 60_000)).toEqual([]);
        const b = another();
        const bInc = await b.join({ id: 'b', url: url('b') }, 60_000);
        expect((await b.acquire('b', bInc, [5], 60_000))?.map(({ slot, epoch }) => ({ slot, epoch }))).toEqual([{ slot: 5, epoch: 2 }]);
        expect([...(await m.owners()).keys()]).toEqual([5]);
      });
    });

    describe('leases', () => {
      it('keeps a member live while it heartbeats and drops it once a lease passes without one', async () => {
        const inc = await m.join({ id: 'a', url: url('a') }, LEASE);
        let last = 0;
        for (let i = 0; i < 8; i++) {
          await sleep(LEASE / 4);
          const owned = await m.heartbeat('a', inc, LEASE);
          expect(owned).toEqual([]);
          const [member] = await m.members();
          expect(member?.id).toBe('a');
          expect(member!.expiresAt).toBeGreaterThan(last);
          last = member!.expiresAt;
        }
        await sleep(LEASE + 150);
        expect(await m.members()).toEqual([]);
        // Lapsed is not over: nobody took anything, so the next heartbeat brings it back.
        expect(await m.heartbeat('a', inc, LEASE)).toEqual([]);
        expect((await m.members()).map((x) => x.id)).toEqual(['a']);
      });

      it('times leases by the store clock, not the process clock', async () => {
        // Our clock says 2001 and stands still: only the server's clock can make the lease run and end.
        vi.useFakeTimers({ toFake: ['Date'] });
        vi.setSystemTime(new Date('2001-01-01T00:00:00Z'));
        const inc = await m.join({ id: 'a', url: url('a') }, LEASE);
        const [member] = await m.members();
        expect(member?.expiresAt).toBeGreaterThan(new Date('2020-01-01').getTime());
        expect(await m.acquire('a', inc, [1], LEASE)).toHaveLength(1);
        await sleep(LEASE + 150);
        expect(await m.members()).toEqual([]);
        expect(await m.owners()).toEqual(new Map());
        vi.setSystemTime(new Date('2100-01-01T00:00:00Z'));
        const inc2 = await m.join({ id: 'b', url: url('b') }, 60_000);
        expect((await m.members()).map((x) => x.id)).toEqual(['b']);
        expect(inc2).toBe(1);
      });
    });

    describe('slots', () => {
      it('acquires only free slots or those whose owner lapsed, bumping the epoch at every taking', async () => {
        const b = another();
        const aInc = await m.join({ id: 'a', url: url('a') }, LEASE);
        const bInc = await b.join({ id: 'b', url: url('b') }, 60_000);
        const got = await m.acquire('a', aInc, [3, 1, 2], LEASE);
        expect(got?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[1, 1], [2, 1], [3, 1]]);
        // Owned by a live member: b gets only the free one.
        expect((await b.acquire('b', bInc, [2, 3, 4], 60_000))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[4, 1]]);
        // Asking again for what one owns keeps its epoch.
        expect((await m.acquire('a', aInc, [1, 2, 3, 9], LEASE))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[1, 1], [2, 1], [3, 1], [9, 1]]);
        await sleep(LEASE + 150);
        // a lapsed: b takes over, each slot's epoch one more.
        expect((await b.acquire('b', bInc, [1, 2, 3], 60_000))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[1, 2], [2, 2], [3, 2]]);
        // a heartbeats and learns what it lost; what nobody took it keeps.
        expect((await m.heartbeat('a', aInc, LEASE))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[9, 1]]);
        expect(slotsOf(await m.acquire('a', aInc, [1, 2], LEASE))).toEqual([]);
        await sleep(LEASE + 150);
        const c = another();
        const cInc = await c.join({ id: 'c', url: url('c') }, 60_000);
        expect((await c.acquire('c', cInc, [9, 1], 60_000))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[9, 2]]);
      });

      it('returns leases that end with the member lease, by the store clock', async () => {
        const inc = await m.join({ id: 'a', url: url('a') }, 60_000);
        const got = await m.acquire('a', inc, [10, 11], 60_000);
        const [member] = await m.members();
        expect(got?.map((l) => l.expiresAt)).toEqual([member!.expiresAt, member!.expiresAt]);
        const renewed = await m.heartbeat('a', inc, 120_000);
        expect(renewed?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[10, 1], [11, 1]]);
        expect(renewed![0]!.expiresAt).toBeGreaterThan(member!.expiresAt + 50_000);
      });

      it('gives every slot to exactly one of several members racing for all of them', async () => {
        const members = Array.from({ length: 4 }, (_, i) => ({ id: `r${i}`, membership: another() }));
        const incs = await Promise.all(members.map(({ id, membership }) => membership.join({ id, url: url(id) }, 60_000)));
        const all = Array.from({ length: SLOT_COUNT }, (_, i) => i);
        const got = await Promise.all(members.map(({ id, membership }, i) => membership.acquire(id, incs[i]!, i % 2 === 0 ? all : [...all].reverse(), 60_000)));
        const taken = got.flatMap((leases) => leases ?? []);
        expect(taken.map((l) => l.slot).sort((a, b) => a - b)).toEqual(all);
        expect(new Set(taken.map((l) => l.epoch))).toEqual(new Set([1]));
        const owners = await m.owners();
        expect(owners.size).toBe(SLOT_COUNT);
        got.forEach((leases, i) => {
          for (const lease of leases ?? []) expect(owners.get(lease.slot)?.owner).toBe(`r${i}`);
        });
      });

      it('releases only what the incarnation owns, keeps epochs, and lets the next owner take at once', async () => {
        const b = another();
        const aInc = await m.join({ id: 'a', url: url('a') }, 60_000);
        const bInc = await b.join({ id: 'b', url: url('b') }, 60_000);
        await m.acquire('a', aInc, [1, 2, 3], 60_000);
        await b.acquire('b', bInc, [4], 60_000);
        expect(await m.release('a', aInc, [3, 2, 4, 8])).toEqual([2, 3]);
        expect(await m.release('a', aInc, [2])).toEqual([]);
        expect(await m.release('a', aInc, [])).toEqual([]);
        expect([...(await m.owners()).keys()]).toEqual([1, 4]);
        expect((await b.acquire('b', bInc, [2, 3], 60_000))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[2, 2], [3, 2]]);
        expect(slotsOf(await m.heartbeat('a', aInc, 60_000))).toEqual([1]);
      });

      it('shows every slot with a live owner, its url, incarnation, epoch and lease end', async () => {
        const b = another();
        await m.join({ id: 'a', url: url('a') }, 60_000);
        const aInc = await m.join({ id: 'a', url: url('a') }, 60_000);
        const bInc = await b.join({ id: 'b', url: url('b') }, LEASE);
        await m.acquire('a', aInc, [0, 255], 60_000);
        await b.acquire('b', bInc, [7], LEASE);
        const owners = await another().owners();
        const [aMember, bMember] = await m.members();
        expect(owners).toEqual(new Map([
          [0, { owner: 'a', url: url('a'), incarnation: 2, epoch: 1, expiresAt: aMember!.expiresAt }],
          [7, { owner: 'b', url: url('b'), incarnation: 1, epoch: 1, expiresAt: bMember!.expiresAt }],
          [255, { owner: 'a', url: url('a'), incarnation: 2, epoch: 1, expiresAt: aMember!.expiresAt }],
        ]));
        await sleep(LEASE + 150);
        expect([...(await m.owners()).keys()]).toEqual([0, 255]);
      });

      it('leave ends the incarnation and frees its slots, and is idempotent', async () => {
        const aInc = await m.join({ id: 'a', url: url('a') }, 60_000);
        await m.join({ id: 'b', url: url('b') }, 60_000);
        await m.acquire('a', aInc, [1, 2], 60_000);
        await m.leave('a', aInc);
        await m.leave('a', aInc);
        await m.leave('nobody', 1);
        expect((await m.members()).map((x) => x.id)).toEqual(['b']);
        expect(await m.owners()).toEqual(new Map());
        expect(await m.heartbeat('a', aInc, 60_000)).toBeUndefined();
        expect(await m.acquire('a', aInc, [3], 60_000)).toBeUndefined();
        expect(await m.heartbeat('nobody', 1, 60_000)).toBeUndefined();
        expect((await m.acquire('b', 1, [1], 60_000))?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[1, 2]]);
      });
    });

    describe('fenced commits', () => {
      it('writes a batch whose fence holds', async () => {
        const inc = await m.join({ id: 'a', url: url('a') }, 60_000);
        const [k1, k2] = [keyIn(3), keyIn(4)];
        const leases = await m.acquire('a', inc, [slotOf(k1), slotOf(k2)], 60_000);
        expect(await store.apply([put(k1, 'one'), put(k2, 'two')], { fence: fenceOf('a', leases) })).toEqual([1, 1]);
        expect(await store.apply([put(k1, 'uno')], { fence: fenceOf('a', leases), isolation: 'serializable' })).toEqual([2]);
        expect(text((await store.get(k1))?.entries.get('v'))).toBe('uno');
      });

      it('refuses the old owner after a takeover, writing nothing of its batch, and names the lost slots', async () => {
        const b = another();
        const aInc = await m.join({ id: 'a', url: url('a') }, LEASE);
        const bInc = await b.join({ id: 'b', url: url('b') }, 60_000);
        const [mine, lost] = [keyIn(20), keyIn(21)];
        const aLeases = await m.acquire('a', aInc, [20, 21], LEASE);
        await store.apply([put(mine, 'a1'), put(lost, 'a1')], { fence: fenceOf('a', aLeases) });
        await sleep(LEASE + 150);
        const bLeases = await b.acquire('b', bInc, [21], 60_000);
        expect(bLeases?.map(({ slot, epoch }) => [slot, epoch])).toEqual([[21, 2]]);
        await store.apply([put(lost, 'b1')], { fence: fenceOf('b', bLeases) });
        // a's lease is back (nobody took slot 20), but slot 21 is b's now: the whole batch is refused.
        await m.heartbeat('a', aInc, 60_000);
        await expectFenced(store.apply([put(mine, 'a2'), put(lost, 'a2')], { fence: fenceOf('a', aLeases) }), 'a', [{ slot: 21, epoch: 1 }]);
        for (const isolation of ['repeatable-read', 'serializable'] as const) {
          await expectFenced(store.apply([put(mine, 'a3'), put(lost, 'a3')], { fence: fenceOf('a', aLeases), isolation }), 'a', [{ slot: 21, epoch: 1 }]);
        }
        expect((await store.get(mine))?.version).toBe(1);
        expect(text((await store.get(mine))?.entries.get('v'))).toBe('a1');
        expect(text((await store.get(lost))?.entries.get('v'))).toBe('b1');
        // Another member's epoch is not a's to use.
        await expectFenced(store.apply([put(lost, 'a4')], { fence: fenceOf('a', bLeases) }), 'a', [{ slot: 21, epoch: 2 }]);
      });

      it('refuses a batch once the lease lapsed, and again after a release or a leave', async () => {
        const inc = await m.join({ id: 'a', url: url('a') }, LEASE);
        const key = keyIn(30);
        const leases = await m.acquire('a', inc, [30], LEASE);
        await store.apply([put(key, 'v1')], { fence: fenceOf('a', leases) });
        await sleep(LEASE + 150);
        await expectFenced(store.apply([put(key, 'late')], { fence: fenceOf('a', leases) }), 'a', [{ slot: 30, epoch: 1 }]);
        // Renewed before anyone took it: the same epoch holds again.
        await m.heartbeat('a', inc, 60_000);
        await store.apply([put(key, 'v2')], { fence: fenceOf('a', leases) });
        await m.release('a', inc, [30]);
        await expectFenced(store.apply([put(key, 'released')], { fence: fenceOf('a', leases) }), 'a', [{ slot: 30, epoch: 1 }]);
        const again = await m.acquire('a', inc, [30], 60_000);
        expect(again?.[0]?.epoch).toBe(2);
        await store.apply([put(key, 'v3')], { fence: fenceOf('a', again) });
        await m.leave('a', inc);
        await expectFenced(store.apply([{ kind: 'delete', key }], { fence: fenceOf('a', again) }), 'a', [{ slot: 30, epoch: 2 }]);
        expect((await store.get(key))?.version).toBe(3);
        expect(text((await store.get(key))?.entries.get('v'))).toBe('v3');
      });

      it('refuses a fence for slots never owned, and one of a member that never joined', async () => {
        const key = keyIn(40);
        await expectFenced(store.apply([put(key, 'x')], { fence: { memberId: 'ghost', slots: [{ slot: 40, epoch: 1 }] } }), 'ghost', [{ slot: 40, epoch: 1 }]);
        expect(await store.get(key)).toBeUndefined();
      });

      it('refuses a malformed fence, or one that does not cover every object of the batch, before writing', async () => {
        const inc = await m.join({ id: 'a', url: url('a') }, 60_000);
        const [inside, outside] = [keyIn(50), keyIn(51)];
        const leases = await m.acquire('a', inc, [50], 60_000);
        const fence = fenceOf('a', leases);
        await expectInvalid(store.apply([put(inside, 'x'), put(outside, 'x')], { fence }), 'options.fence');
        await expectInvalid(store.apply([{ kind: 'delete', key: outside }], { fence }), 'options.fence');
        const bad: unknown[] = [
          null, 'a', { slots: fence.slots }, { memberId: '', slots: fence.slots }, { memberId: 'a b', slots: fence.slots },
          { memberId: 'a' }, { memberId: 'a', slots: [] }, { memberId: 'a', slots: 'all' }, { memberId: 'a', slots: [50] },
          { memberId: 'a', slots: [{ slot: 256, epoch: 1 }] }, { memberId: 'a', slots: [{ slot: -1, epoch: 1 }] }, { memberId: 'a', slots: [{ slot: 1.5, epoch: 1 }] },
          { memberId: 'a', slots: [{ slot: 50, epoch: 0 }] }, { memberId: 'a', slots: [{ slot: 50, epoch: '1' }] }, { memberId: 'a', slots: [{ slot: 50 }] },
          { memberId: 'a', slots: [{ slot: 50, epoch: 1 }, { slot: 50, epoch: 1 }] },
        ];
        for (const value of bad) await expectInvalid(store.apply([put(inside, 'x')], { fence: value as CommitFence }), /^options\.fence/);
        expect(await store.get(inside)).toBeUndefined();
        expect(await store.apply([], { fence })).toEqual([]);
      });
    });

    describe('bad input', () => {
      it('refuses malformed arguments to every operation with InvalidArgumentError, changing nothing', async () => {
        const inc = await m.join({ id: 'ok', url: url('ok') }, 60_000);
        const badMembers: unknown[] = [
          null, 'a', {}, { id: 'a' }, { url: url('a') }, { id: '', url: url('a') }, { id: 'a b', url: url('a') }, { id: 'é', url: url('a') },
          { id: 'x'.repeat(257), url: url('a') }, { id: 7, url: url('a') }, { id: 'a', url: 'ftp://a.test' }, { id: 'a', url: 'not a url' },
          { id: 'a', url: 'http://a.test/\u0000' }, { id: 'a', url: 42 }, { id: 'a', url: `http://a.test/${'x'.repeat(2048)}` },
        ];
        for (const member of badMembers) await expectInvalid(m.join(member as never, 1000), /^member/);
        const badLeases: unknown[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1000', undefined, 86_400_001];
        for (const lease of badLeases) {
          await expectInvalid(m.join({ id: 'a', url: url('a') }, lease as never), 'leaseMs');
          await expectInvalid(m.heartbeat('ok', inc, lease as never), 'leaseMs');
          await expectInvalid(m.acquire('ok', inc, [1], lease as never), 'leaseMs');
        }
        const badIds: unknown[] = ['', 'a b', null, 3, 'x\u0000'];
        const badIncarnations: unknown[] = [0, -1, 1.5, '1', null, Number.MAX_SAFE_INTEGER + 1];
        const badSlots: unknown[] = [null, 5, [256], [-1], [1.5], ['1'], [1, 1], { 0: 1 }];
        for (const id of badIds) {
          await expectInvalid(m.heartbeat(id as never, inc, 1000), 'memberId');
          await expectInvalid(m.acquire(id as never, inc, [1], 1000), 'memberId');
          await expectInvalid(m.release(id as never, inc, [1]), 'memberId');
          await expectInvalid(m.leave(id as never, inc), 'memberId');
        }
        for (const value of badIncarnations) {
          await expectInvalid(m.heartbeat('ok', value as never, 1000), 'incarnation');
          await expectInvalid(m.acquire('ok', value as never, [1], 1000), 'incarnation');
          await expectInvalid(m.release('ok', value as never, [1]), 'incarnation');
          await expectInvalid(m.leave('ok', value as never), 'incarnation');
        }
        for (const slots of badSlots) {
          await expectInvalid(m.acquire('ok', inc, slots as never, 1000), 'slots');
          await expectInvalid(m.release('ok', inc, slots as never), 'slots');
        }
        expect((await m.members()).map(({ id, incarnation }) => [id, incarnation])).toEqual([['ok', 1]]);
        expect(await m.owners()).toEqual(new Map());
      });

      it('fails every call after close with a permanent StoreError, and closes twice', async () => {
        const other = another();
        await other.join({ id: 'a', url: url('a') }, 60_000);
        await other.close();
        await other.close();
        for (const call of [() => other.join({ id: 'a', url: url('a') }, 1000), () => other.members(), () => other.owners(), () => other.heartbeat('a', 1, 1000), () => other.open()]) {
          const error = await rejection(call());
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).transient).toBe(false);
        }
      });
    });
  });
}
