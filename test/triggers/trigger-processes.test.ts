import { describe, expect, it } from 'vitest';
import { bytesToText, decodeState } from '../../src/object/codec.js';
import { createStore, parseStoreSpec } from '../../src/stores/resolve-store.js';
import type { Store } from '../../src/stores/store.js';
import { commitAll, configureOaas, shutdown } from '../../src/index.js';
import { childrenKilledAfterEach } from '../support/child.js';
import { tempSqlite } from '../support/runtime.js';
import { describeOnSharedStores } from '../support/servers.js';
import { waitUntil } from '../cluster/processes/harness.js';
import { Ledger, Sink, Ticket } from '../reminders/fixtures/services.js';

const writer = new URL('../reminders/fixtures/trigger-writer.ts', import.meta.url);
const worker = new URL('../reminders/fixtures/worker.ts', import.meta.url);

const start = childrenKilledAfterEach();

/** Reads what the chain left in the store. */
class Reader {
  private constructor(private readonly store: Store) {}

  static async open(spec: string): Promise<Reader> {
    return new Reader(await createStore(parseStoreSpec(spec)));
  }

  private async read(cls: string, id: string, key: string): Promise<unknown> {
    const found = await this.store.get({ clsId: cls, partitionId: 0, objectId: id });
    const bytes = found?.entries.get(key);
    return bytes === undefined ? undefined : decodeState(bytesToText(bytes));
  }

  async ticket(id: string): Promise<{ n: number; pending: boolean }> {
    const found = await this.store.get({ clsId: 'rem.Ticket', partitionId: 0, objectId: id });
    return { n: (await this.read('rem.Ticket', id, 'n')) as number, pending: found?.entries.has('__oaas_outbox') === true };
  }

  async ledger(): Promise<{ received: number; keys: string[] }> {
    return { received: (await this.read('rem.Ledger', 'ledger', 'received')) as number, keys: (await this.read('rem.Ledger', 'ledger', 'keys')) as string[] };
  }

  async sink(): Promise<number> {
    return (await this.read('rem.Sink', 'sink', 'heard')) as number;
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

async function seed(store: string, tickets: readonly string[]): Promise<void> {
  await configureOaas({ store, autoCommit: false, logLevel: 'silent', reminders: { enabled: false } });
  Ledger.create({}, { id: 'ledger' });
  Sink.create({}, { id: 'sink' });
  for (const id of tickets) Ticket.create({}, { id });
  await commitAll();
  await shutdown();
}

/** Waits until every ticket's events went through the chain; returns the tickets' committed update count. */
async function chainSettled(reader: Reader, tickets: readonly string[]): Promise<number> {
  let total = 0;
  await waitUntil(
    async () => {
      const rows = await Promise.all(tickets.map((id) => reader.ticket(id)));
      total = rows.reduce((sum, row) => sum + row.n, 0);
      const ledger = await reader.ledger();
      return rows.every((row) => !row.pending) && ledger.received === total && (await reader.sink()) === total;
    },
    60_000,
    'the chain to deliver every event',
  );
  return total;
}

async function expectOnce(reader: Reader, total: number): Promise<void> {
  const ledger = await reader.ledger();
  expect(ledger.received).toBe(total);
  expect(new Set(ledger.keys).size).toBe(total);
  expect(await reader.sink()).toBe(total);
}

describe('triggers across crashes on SQLite', () => {
  it('a trigger chain survives a SIGKILL between commit and delivery and is delivered once', { timeout: 90_000 }, async () => {
    const store = tempSqlite();
    await seed(store, ['t1']);
    const reader = await Reader.open(store);
    try {
      const doomed = start(writer, [store, 't1', '5'], { DELIVER: '0' });
      await doomed.waitFor((line) => line.includes('"committed"'), 30_000);
      doomed.signal('SIGKILL');
      await doomed.exit(10_000);
      // Committed with their events, delivered to no one.
      expect(await reader.ticket('t1')).toEqual({ n: 5, pending: true });
      expect((await reader.ledger()).received).toBe(0);
      const next = start(worker, [store], { WORKER_ID: 'next' });
      const total = await chainSettled(reader, ['t1']);
      expect(total).toBe(5);
      next.signal('SIGTERM');
      await next.exit(20_000);
      await expectOnce(reader, 5);
    } finally {
      await reader.close();
    }
  });

  it('a SIGKILL after a target committed a delivery, before the source recorded it: the next delivery finds it done', { timeout: 90_000 }, async () => {
    const store = tempSqlite();
    await seed(store, ['t1']);
    const reader = await Reader.open(store);
    try {
      const doomed = start(writer, [store, 't1', '3'], { KILL_AFTER_TARGET: '1' });
      const [, signal] = await doomed.exit(30_000);
      expect(signal).toBe('SIGKILL');
      // The ledger took one event and the ticket still lists it: delivered but not yet removed.
      expect((await reader.ledger()).received).toBe(1);
      expect((await reader.ticket('t1')).pending).toBe(true);
      const next = start(worker, [store], { WORKER_ID: 'next' });
      const total = await chainSettled(reader, ['t1']);
      next.signal('SIGTERM');
      await next.exit(20_000);
      await expectOnce(reader, total);
    } finally {
      await reader.close();
    }
  });
});

await describeOnSharedStores(
  (kind) => `triggers with three processes on ${kind}`,
  (server) => {
    it('deliver every event once to one contended target, a chain behind it, with a process killed after a delivery', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      const tickets = ['ta', 'tb', 'tc', 'td'];
      await seed(store, tickets);
      const reader = await Reader.open(store);
      try {
        const writers = ['ta', 'tb', 'tc'].map((id) => start(writer, [store, id, '8']));
        const doomed = start(writer, [store, 'td', '8'], { KILL_AFTER_TARGET: '1' });
        await Promise.all(writers.map((w) => w.waitFor((line) => line.includes('"committed"'), 60_000)));
        const [, signal] = await doomed.exit(60_000);
        expect(signal).toBe('SIGKILL');
        const total = await chainSettled(reader, tickets);
        expect(total).toBeGreaterThanOrEqual(24);
        await expectOnce(reader, total);
      } finally {
        await reader.close();
      }
    });

    it('in cluster mode, three members deliver the events a stopped process left, each once', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      const tickets = Array.from({ length: 12 }, (_, i) => `tk-${i}`);
      await seed(store, tickets);
      // A process that delivers nothing commits the updates, and stops: their events wait in the tickets' outboxes.
      await configureOaas({ store, autoCommit: false, logLevel: 'silent', reminders: { enabled: false } });
      for (const id of tickets) {
        const ticket = await Ticket.load(id);
        await ticket.bump();
        await commitAll();
        await ticket.bump();
        await commitAll();
      }
      await shutdown();
      const reader = await Reader.open(store);
      try {
        expect((await Promise.all(tickets.map((id) => reader.ticket(id)))).every((t) => t.pending)).toBe(true);
        const members = ['m1', 'm2', 'm3'].map((id) => start(worker, [store], { WORKER_ID: id, CLUSTER: '1', LEASE_MS: '2000' }));
        const total = await chainSettled(reader, tickets);
        expect(total).toBe(24);
        await expectOnce(reader, total);
        for (const member of members) member.signal('SIGTERM');
        await Promise.all(members.map((m) => m.exit(20_000)));
      } finally {
        await reader.close();
      }
    });
  },
);
