/**
 * An owner process stopped with SIGSTOP, on real servers: another process
 * takes its slot over once its lease lapses and commits; when the stopped
 * one resumes, its fenced commits are refused and write nothing. On
 * PostgreSQL, one stopped in the middle of a fenced transaction does not
 * hold up the takeover much beyond the lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Membership, SlotLease } from '../../src/cluster/membership.js';
import { slotOf } from '../../src/cluster/slots.js';
import { PostgresMembership } from '../../src/stores/postgres/membership.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { RedisMembership } from '../../src/stores/redis/membership.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import type { Store } from '../../src/stores/store.js';
import { childrenKilledAfterEach } from '../support/child.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';

const LEASE = 1000;
const fixture = new URL('./fixtures/fenced-owner.ts', import.meta.url);
const key = (objectId: string): { clsId: string; partitionId: number; objectId: string } => ({ clsId: 'cls', partitionId: 0, objectId });
const valueOf = async (store: Store, objectId: string): Promise<{ version: number; v: string | undefined } | undefined> => {
  const found = await store.get(key(objectId));
  return found === undefined ? undefined : { version: found.version, v: new TextDecoder().decode(found.entries.get('v')) };
};

/** Asks for `slot` until it is granted (the owner's lease must lapse first); bounded. */
async function takeOver(membership: Membership, memberId: string, incarnation: number, slot: number, deadlineMs: number): Promise<SlotLease> {
  const started = performance.now();
  for (;;) {
    const [lease] = (await membership.acquire(memberId, incarnation, [slot], 60_000)) ?? [];
    if (lease !== undefined) return lease;
    if (performance.now() - started > deadlineMs) throw new Error(`slot ${slot} not free after ${deadlineMs} ms`);
    await sleep(20);
  }
}

const start = childrenKilledAfterEach();

for (const kind of ['postgres', 'redis'] as const) {
  const reason = await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} paused-owner suites skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`a paused owner on ${kind}`, () => {
    let server: TestServer;
    let url: string;
    let prefix: string;
    let store: Store;
    let membership: Membership | undefined;
    beforeAll(async () => {
      server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server.destroy();
    });
    afterEach(async () => {
      await Promise.allSettled([(store as Store | undefined)?.close(), membership?.close()]);
    });

    const open = async (): Promise<Membership> => {
      url = await server.freshStore();
      prefix = `p${randomBytes(4).toString('hex')}`;
      store = kind === 'postgres' ? new PostgresStore({ url, leaseMs: LEASE }) : new RedisStore({ url, keyPrefix: prefix });
      membership = kind === 'postgres' ? new PostgresMembership({ url }) : new RedisMembership({ url, keyPrefix: prefix });
      return membership;
    };

    it('is taken over once its lease lapses; resumed, its fenced writes are refused and the new owner keeps its state', { timeout: 60_000 }, async () => {
      const membership = await open();
      const child = start(fixture, [kind, url, prefix, 'old', String(LEASE), 'loop', 'hot']);
      await child.waitFor((line) => line === 'wrote 3', 30_000);
      child.signal('SIGSTOP');
      const stoppedAt = performance.now();

      const incarnation = await membership.join({ id: 'new', url: 'http://new.test' }, 60_000);
      const lease = await takeOver(membership, 'new', incarnation, slotOf(key('hot')), 10 * LEASE);
      const tookMs = performance.now() - stoppedAt;
      expect(lease.epoch).toBe(2);
      // Its lease was renewed at most a quarter lease before the stop: the slot cannot be free much sooner.
      expect(tookMs).toBeGreaterThan(LEASE / 2);
      const before = await valueOf(store, 'hot');
      expect(before?.v).toMatch(/^old-\d+$/);
      const fence = { memberId: 'new', slots: [{ slot: lease.slot, epoch: lease.epoch }] };
      const [version] = await store.apply([{ kind: 'put', key: key('hot'), expectedVersion: before!.version, set: new Map([['v', new TextEncoder().encode('new-1')]]) }], { fence });
      const linesAtResume = child.lines.length;

      child.signal('SIGCONT');
      await child.waitFor((line) => line === 'fenced', 20_000);
      const [code] = await child.exit();
      expect(code, child.stderr).toBe(0);
      // After it resumed, no write of the old owner got through, whatever it had in flight when it stopped.
      const afterResume = child.lines.slice(linesAtResume);
      expect(afterResume.filter((line) => line.startsWith('wrote'))).toEqual([]);
      expect(await valueOf(store, 'hot')).toEqual({ version, v: 'new-1' });
      console.log(`${kind}: paused owner taken over ${Math.round(tookMs)} ms after SIGSTOP (lease ${LEASE} ms); resumed owner printed ${afterResume.join(', ')}`);
    });

    // Only PostgreSQL holds row locks across a paused transaction; the case is registered for it alone.
    if (kind === 'postgres') it('stopped inside a fenced transaction, holds the takeover up no longer than about the lease', { timeout: 60_000 }, async () => {
      const membership = await open();
      const child = start(fixture, [kind, url, prefix, 'old', String(LEASE), 'pause-in-fence', 'held']);
      await child.waitFor((line) => line === 'holding', 30_000);
      const stoppedAt = performance.now();
      // The stopped process really holds a transaction with a share lock on the slot table.
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ state: string; mode: string }>(`SELECT a.state, l.mode FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
          WHERE a.application_name = 'fenced-owner' AND l.relation = 'oaas_slots'::regclass`);
        expect(rows).toEqual([{ state: 'idle in transaction', mode: 'RowShareLock' }]);
      } finally {
        await admin.end();
      }

      const incarnation = await membership.join({ id: 'new', url: 'http://new.test' }, 60_000);
      const lease = await takeOver(membership, 'new', incarnation, slotOf(key('held')), 10 * LEASE);
      const fence = { memberId: 'new', slots: [{ slot: lease.slot, epoch: lease.epoch }] };
      await store.apply([{ kind: 'put', key: key('held'), expectedVersion: 0, set: new Map([['v', new TextEncoder().encode('new-1')]]) }], { fence });
      const tookMs = performance.now() - stoppedAt;
      console.log(`postgres: took over and committed ${Math.round(tookMs)} ms after the owner stopped inside a fenced transaction (lease ${LEASE} ms, its transaction cut off after ${LEASE / 2} ms idle)`);
      expect(tookMs).toBeLessThan(1.5 * LEASE + 500);

      child.signal('SIGCONT');
      const [code] = await child.exit();
      expect(code, child.stderr).toBe(0);
      // Its connection was cut by the server: the batch failed (a transient failure) and wrote nothing.
      expect(child.lines.at(-1)).toBe('result OAAS_ERR_STORE_FAILED transient');
      expect(await valueOf(store, 'held')).toEqual({ version: 1, v: 'new-1' });
    });
  });
}
