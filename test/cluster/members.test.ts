// Cluster members in one process (each a runtime with its own HTTP server) on a real PostgreSQL and Redis:
// ownership, forwarding instances, relayed HTTP requests, scopes that move objects, handover at shutdown.
import { afterEach, expect, it } from 'vitest';
import { FencedError, OwnedElsewhereError, ApplicationError, type CommitErrorEvent } from '../../src/index.js';
import { coreOf } from '../../src/object/oaas-object.js';
import { OaasRuntime } from '../../src/runtime/oaas-runtime.js';
import { resolveConfig } from '../../src/config.js';
import { describeOnSharedStores } from '../support/servers.js';
import { Counter } from '../remote/fixtures/services.js';
import { idOwnedBy, settled, startMember, startMembers, stopMembers, type Member } from './support/in-process-cluster.js';

const CLS = 'remote.Counter';

await describeOnSharedStores((kind) => `cluster members on ${kind}`, (server) => {
  const members: Member[] = [];
  const extra: OaasRuntime[] = [];
  afterEach(async () => {
    await stopMembers(members);
    for (const runtime of extra.splice(0)) await runtime.shutdown();
  });

  /** A runtime outside the cluster on the same store, to read what is stored. */
  async function storedCount(store: string, id: string): Promise<number> {
    const reader = new OaasRuntime(resolveConfig({ store, autoCommit: false, logLevel: 'silent' }, {}));
    extra.push(reader);
    return ((await reader.load(Counter, id, undefined)) as Counter).count;
  }

  it('shares the 256 slots between the members, each taking a fair share', { timeout: 30_000 }, async () => {
    members.push(...(await startMembers(await server.freshStore(), 3)));
    const owned = members.map((m) => m.runtime.getStats().cluster!.ownedSlots);
    expect(owned.reduce((a, b) => a + b, 0)).toBe(256);
    // Rendezvous hashing over three members: each near a third (85), never a lopsided split.
    for (const n of owned) expect(n, `shares ${owned.join(", ")}`).toBeGreaterThan(50);
    expect(members[0]!.runtime.getStats().cluster).toMatchObject({ members: 3, incarnation: 1, memberId: members[0]!.server.url, url: members[0]!.server.url });
  });

  it('forwards a method called on a non-owner to the owner, which runs it as its own call; the instance shows the reply state', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2)));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS);
    const live = a.runtime.create(Counter, { count: 5 }, { id }) as Counter;
    await a.runtime.commitObjects([live]);

    const remote = (await b.runtime.load(Counter, id, undefined)) as Counter;
    expect(coreOf(remote).remote).toBe(true);
    expect(remote.count).toBe(5);
    await expect(remote.increment(2)).resolves.toBe(7);
    // The owner's live instance ran it; the forwarding instance took the state of the reply.
    expect(live.count).toBe(7);
    expect(remote.count).toBe(7);
    // It is the owner's call, write-behind like any in-process call there: pending on the owner until its commit.
    expect(a.runtime.pendingObjectCount).toBe(1);
    await a.runtime.commitAll();
    expect(await storedCount(store, id)).toBe(7);
    expect(b.runtime.getStats().cluster!.forwardedCalls).toBeGreaterThanOrEqual(2);

    // Errors come back as the same classes.
    await expect(remote.fail('nope')).rejects.toBeInstanceOf(ApplicationError);
  });

  it('refuses an assignment to a forwarding instance with OwnedElsewhereError naming the owner', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2)));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS);
    await a.runtime.commitObjects([a.runtime.create(Counter, {}, { id })]);
    const remote = (await b.runtime.load(Counter, id, undefined)) as Counter;
    let error: unknown;
    try {
      remote.count = 99;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OwnedElsewhereError);
    expect((error as OwnedElsewhereError).code).toBe('OAAS_ERR_OWNED_ELSEWHERE');
    expect((error as OwnedElsewhereError).owner).toEqual({ id: a.server.url, url: a.server.url });
    expect(remote.count).toBe(0);
    expect(await storedCount(store, id)).toBe(0);
  });

  it('creates an object in a slot owned elsewhere on its owner', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2)));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS, 'created');
    const created = b.runtime.create(Counter, { count: 3 }, { id }) as Counter;
    expect(coreOf(created).remote).toBe(true);
    await expect(created.increment()).resolves.toBe(4);
    expect(((await a.runtime.load(Counter, id, undefined)) as Counter).count).toBe(4);
    // A second creation of the same id is refused by the owner and reported.
    const events: CommitErrorEvent[] = [];
    b.runtime.onCommitError((event) => events.push(event));
    const again = b.runtime.create(Counter, {}, { id }) as Counter;
    await expect(again.increment()).rejects.toMatchObject({ code: 'OAAS_ERR_OBJECT_EXISTS' });
    expect(events.map((e) => (e.error as { code?: string }).code)).toContain('OAAS_ERR_OBJECT_EXISTS');
  });

  it('relays an HTTP invocation on a non-owner to the owner', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2)));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS);
    await a.runtime.commitObjects([a.runtime.create(Counter, {}, { id })]);
    const reply = await fetch(`${b.server.url}/api/class/${CLS}/0/objects/${id}/invokes/increment`, { method: 'POST', body: '3' });
    expect(reply.status).toBe(200);
    expect(await reply.json()).toBe(3);
    const state = await fetch(`${b.server.url}/api/class/${CLS}/0/objects/${id}`);
    expect(((await state.json()) as { entries: { count: number } }).entries.count).toBe(3);
    expect(b.runtime.getStats().cluster!.forwardedCalls).toBe(2);
    expect(a.runtime.getStats().cluster!.forwardedCalls).toBe(0);
    expect(await storedCount(store, id)).toBe(3);
  });

  it('moves objects owned elsewhere to a scope, which stays atomic', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 3)));
    const [a, b, c] = members as [Member, Member, Member];
    const x = idOwnedBy(a, CLS, 'x');
    const y = idOwnedBy(b, CLS, 'y');
    await a.runtime.commitObjects([a.runtime.create(Counter, { count: 10 }, { id: x })]);
    await b.runtime.commitObjects([b.runtime.create(Counter, { count: 10 }, { id: y })]);

    await c.runtime.sessionScope(async () => {
      const from = (await c.runtime.load(Counter, x, undefined)) as Counter;
      const to = (await c.runtime.load(Counter, y, undefined)) as Counter;
      expect(coreOf(from).remote).toBe(false);
      from.count -= 4;
      to.count += 4;
    });
    expect(c.runtime.cluster!.ownsKey({ clsId: CLS, partitionId: 0, objectId: x })).toBe(true);
    expect(c.runtime.cluster!.ownsKey({ clsId: CLS, partitionId: 0, objectId: y })).toBe(true);
    expect(a.runtime.getStats().cluster!.handovers).toBeGreaterThan(0);
    expect([await storedCount(store, x), await storedCount(store, y)]).toEqual([6, 14]);

    // A scope that fails changes nothing, here or in the store.
    await expect(
      c.runtime.sessionScope(async () => {
        const from = (await c.runtime.load(Counter, x, undefined)) as Counter;
        from.count -= 100;
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(((await c.runtime.load(Counter, x, undefined)) as Counter).count).toBe(6);
    expect(await storedCount(store, x)).toBe(6);
  });

  it('flushes and hands everything over at shutdown: the others answer for its objects with its last changes', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2, { autoCommitIntervalMs: 60_000 })));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS);
    const live = a.runtime.create(Counter, {}, { id }) as Counter;
    await live.increment(5);
    // Write-behind: acknowledged, not yet stored.
    expect(a.runtime.pendingObjectCount).toBe(1);
    members.splice(0, 1);
    await a.runtime.shutdown();
    await a.server.close();
    expect(await storedCount(store, id)).toBe(5);
    await settled([b]);
    const onB = (await b.runtime.load(Counter, id, undefined)) as Counter;
    expect(coreOf(onB).remote).toBe(false);
    expect(await onB.increment()).toBe(6);
  });

  it('members call each other with the configured token; a call without it is refused', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2, { token: 'cluster-secret' })));
    const [a, b] = members as [Member, Member];
    const id = idOwnedBy(a, CLS);
    await a.runtime.commitObjects([a.runtime.create(Counter, {}, { id })]);
    const remote = (await b.runtime.load(Counter, id, undefined)) as Counter;
    await expect(remote.increment(4)).resolves.toBe(4);
    const relayed = await fetch(`${b.server.url}/api/class/${CLS}/0/objects/${id}/invokes/increment`, { method: 'POST', body: '1', headers: { authorization: 'Bearer cluster-secret' } });
    expect(await relayed.json()).toBe(5);
    // The member-to-member routes sit behind the same token.
    const bare = await fetch(`${a.server.url}/api/cluster/invoke/${CLS}/0/objects/${id}/increment`, { method: 'POST', body: '1' });
    expect(bare.status).toBe(401);
    const handover = await fetch(`${a.server.url}/api/cluster/handover`, { method: 'POST', body: '{"slots":[1]}' });
    expect(handover.status).toBe(401);
    expect(((await a.runtime.load(Counter, id, undefined)) as Counter).count).toBe(5);
  });

  it('the member-to-member routes refuse malformed requests with coded 400s and change nothing', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    members.push(...(await startMembers(store, 2)));
    const [a] = members as [Member, Member];
    const before = a.runtime.getStats().cluster!;
    for (const body of ['', 'not json', '{}', '{"slots":"all"}', '{"slots":[256]}', '{"slots":[1,1]}', '{"slots":[-1]}']) {
      const reply = await fetch(`${a.server.url}/api/cluster/handover`, { method: 'POST', body });
      expect(reply.status, body).toBe(400);
      expect(((await reply.json()) as { error: { code: string } }).error.code).toBe('OAAS_ERR_ARGUMENT_INVALID');
    }
    const badPath = await fetch(`${a.server.url}/api/cluster/invoke/${CLS}/x/objects/o1/increment`, { method: 'POST', body: '1' });
    expect(badPath.status).toBe(400);
    expect(a.runtime.getStats().cluster).toMatchObject({ ownedSlots: before.ownedSlots, handovers: before.handovers });
  });

  it('shows the cluster in getStats, healthCheck and /metrics', { timeout: 30_000 }, async () => {
    members.push(...(await startMembers(await server.freshStore(), 2)));
    const [a] = members as [Member, Member];
    const metrics = await (await fetch(`${a.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^oaas_cluster_members 2$/m);
    expect(metrics).toMatch(/^oaas_cluster_owned_slots \d+$/m);
    const health = await a.runtime.healthCheck();
    expect(health.cluster).toMatchObject({ members: 2, memberId: a.server.url });
  });

  it('a member whose incarnation another process ended reports its unflushed changes as discarded, never written', { timeout: 30_000 }, async () => {
    const store = await server.freshStore();
    // A member id that is taken by a live member joins as its next incarnation: the first one learns it was ended.
    members.push(await startMember(store, 1200));
    const first = members[0]!;
    const events: CommitErrorEvent[] = [];
    first.runtime.onCommitError((e) => events.push(e));
    const live = first.runtime.create(Counter, {}, { id: idOwnedBy(first, CLS) }) as Counter;
    first.runtime.disableAutoCommit();
    await live.increment();
    const twin = new OaasRuntime(resolveConfig({ store, cluster: { url: first.server.url, leaseMs: 1200 }, logLevel: 'silent' }, {}));
    extra.push(twin);
    await twin.ready();
    // The first incarnation learns at its next heartbeat that it was ended: its unflushed change is reported, never written.
    const started = Date.now();
    while (events.length === 0 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
    expect(events[0]?.error).toBeInstanceOf(FencedError);
    expect(events[0]?.discarded.map(String)).toEqual([`${CLS}/0/${coreOf(live).key.objectId}`]);
  });
});
