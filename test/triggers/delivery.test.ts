import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  MemoryStore,
  OaasObject,
  RegistrationError,
  commitAll,
  field,
  onCommitError,
  shutdown,
  type CommitErrorEvent,
  getStats,
  metricsText,
  method,
  onTriggerError,
  service,
  sessionScope,
  type Store,
  type TriggerErrorEvent,
  type TriggerEvent,
} from '../../src/index.js';
import type { Logger } from 'pino';
import type { OaasConfig } from '../../src/config.js';
import { captureLogs } from '../support/logs.js';
import { ManualClock } from '../support/manual-clock.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';

shutdownAfterEach();

@service('AuditLog', { package: 'trg' })
class AuditLog extends OaasObject {
  entries: string[] = [];
  keys: string[] = [];

  @method()
  async record(event: TriggerEvent): Promise<void> {
    const what = event.kind === 'complete' || event.kind === 'error' ? `${event.kind}:${event.method}` : `${event.kind}:${[...(event.changed ?? [])].sort().join('+')}`;
    this.entries.push(`${event.source.objectId}@${event.version} ${what}${event.error === undefined ? '' : ` (${event.error.message})`}`);
    this.keys.push(event.idempotencyKey);
  }
}

@service('StatusBoard', { package: 'trg' })
class StatusBoard extends OaasObject {
  seen: string[] = [];
  failuresLeft = 0;

  @method()
  async statusChanged(event: TriggerEvent): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('board offline');
    }
    this.seen.push(`${event.source.objectId}@${event.version}`);
  }

  @method()
  async setFailures(n: number): Promise<void> {
    this.failuresLeft = n;
  }
}

const audit = { cls: () => AuditLog, method: 'record', objectId: 'audit' };

@service('Order', { package: 'trg', onCreate: [audit], onUpdate: [audit], onDelete: [audit] })
class Order extends OaasObject {
  @field({ onUpdate: [{ cls: 'StatusBoard', method: 'statusChanged', objectId: 'board' }] }) status = 'new';
  note = '';

  @method({ onComplete: [audit] })
  async pay(): Promise<void> {
    this.status = 'paid';
  }

  @method({ onError: [audit], onComplete: [audit] })
  async refuse(): Promise<void> {
    this.note = 'half-done';
    throw new Error('refused');
  }

  @method()
  async annotate(note: string): Promise<void> {
    this.note = note;
  }
}

/** Waits (bounded, in real time) until `probe` holds. */
async function until(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function start(store: Store | string, logger?: Logger, more: OaasConfig = {}): ReturnType<typeof freshRuntime> {
  return freshRuntime({ store, autoCommit: true, autoCommitIntervalMs: 10, logLevel: (process.env.TEST_LOG as 'warn' | undefined) ?? 'silent', logger, reminders: { pollIntervalMs: 20, retryBaseMs: 20, retryCapMs: 40, maxAttempts: 3 }, ...more });
}

async function setUp(store: Store | string, logger?: Logger, more: OaasConfig = {}): Promise<{ log: AuditLog; board: StatusBoard; store: Store }> {
  const runtime = await start(store, logger, more);
  await runtime.ready();
  const log = AuditLog.create({}, { id: 'audit' });
  const board = StatusBoard.create({}, { id: 'board' });
  await commitAll();
  return { log, board, store: runtime.storeView };
}

/** The next process on the same database: the targets as that one left them. */
async function reopen(store: string): Promise<{ log: AuditLog }> {
  await (await start(store)).ready();
  return { log: await AuditLog.load('audit') };
}

describe.each([
  ['memory', (): Store | string => new MemoryStore()],
  ['sqlite', (): Store | string => tempSqlite()],
])('triggers on the %s store', (_name, makeStore) => {
  it('deliver each committed create, update and delete to their targets, once, in version order, with the fields written', async () => {
    const { log, board, store } = await setUp(makeStore());
    const order = Order.create({}, { id: 'o1' });
    await commitAll();
    await order.annotate('gift');
    await commitAll();
    await order.pay();
    await commitAll();
    await order.delete();
    await commitAll();
    await until(() => log.entries.length >= 5, 'five audit entries');
    expect(log.entries).toEqual(['o1@1 create:note+status', 'o1@2 update:note', 'o1@3 complete:pay', 'o1@3 update:status', 'o1@4 delete:']);
    // The field trigger fires only for the commit that changed its field.
    await until(() => board.seen.length >= 1, 'the status board');
    expect(board.seen).toEqual(['o1@3']);
    expect(new Set(log.keys).size).toBe(5);
    expect(log.keys[0]).toBe('trg.Order/0/o1@1.0');
    // Removing delivered events is no change of the order's data: it fires nothing more.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(log.entries).toHaveLength(5);
    expect(getStats().triggers).toMatchObject({ delivered: 5, failed: 0, dropped: 0 });
    // The deleted order's last events went out through an outbox record, deleted once empty.
    expect((await store.list('oaas.Outbox', 0)).objects).toEqual([]);
    expect(await store.get({ clsId: 'trg.Order', partitionId: 0, objectId: 'o1' })).toBeUndefined();
  });

  it('record a failed call`s event although the call is rolled back, and no completion of a call in a scope that fails', async () => {
    const { log } = await setUp(makeStore());
    const order = Order.create({}, { id: 'o2' });
    await commitAll();
    await expect(order.refuse()).rejects.toThrow('refused');
    expect(order.note).toBe('');
    await expect(
      sessionScope(async () => {
        await order.pay();
        throw new Error('scope fails');
      }),
    ).rejects.toThrow('scope fails');
    await expect(
      sessionScope(async () => {
        await order.refuse();
      }),
    ).rejects.toThrow('refused');
    await commitAll();
    await until(() => log.entries.length >= 3, 'three audit entries');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(log.entries).toEqual(['o2@1 create:note+status', 'o2@2 error:refuse (refused)', 'o2@2 error:refuse (refused)']);
    expect(order.status).toBe('new');
  });

  it('retry a failing target with back-off, report each failure, and give up after the bound', async () => {
    const { log, board } = await setUp(makeStore());
    const failures: TriggerErrorEvent[] = [];
    onTriggerError((event) => failures.push(event));
    await board.setFailures(10);
    const order = Order.create({}, { id: 'o3' });
    await commitAll();
    await order.pay();
    await commitAll();
    await until(() => failures.length >= 3, 'three failed deliveries');
    expect(failures.map((f) => [f.attempt, f.dropped, f.target.method, f.version])).toEqual([
      [1, false, 'statusChanged', 2],
      [2, false, 'statusChanged', 2],
      [3, true, 'statusChanged', 2],
    ]);
    expect(failures[0]?.error.message).toBe('board offline');
    // The targets before the failing one were delivered once; the later events of the object still go out.
    await order.annotate('late');
    await commitAll();
    // Delivering and retrying are commits of the order too (its outbox changes), so its next version is later than 3.
    await until(() => log.entries.some((e) => e.endsWith(' update:note')), 'the next event');
    expect(log.entries.slice(0, 3)).toEqual(['o3@1 create:note+status', 'o3@2 complete:pay', 'o3@2 update:status']);
    expect(log.entries[3]).toMatch(/^o3@\d+ update:note$/);
    expect(log.entries).toHaveLength(4);
    expect(board.seen).toEqual([]);
    expect(await metricsText()).toMatch(/oaas_trigger_events_dropped_total 1/);
  });
});

let targetConflicts = 0;

@service('HotTarget', { package: 'trg' })
class HotTarget extends OaasObject {
  taken = 0;

  @method()
  async take(_event: TriggerEvent): Promise<void> {
    if (targetConflicts > 0) {
      targetConflicts -= 1;
      throw new ConflictError([{ ref: this.asRef(), expected: this.version, actual: this.version + 1 }]);
    }
    this.taken += 1;
  }
}

@service('Ping', { package: 'trg', onCreate: [{ cls: () => HotTarget, method: 'take', objectId: 'hot' }] })
class Ping extends OaasObject {
  n = 0;
}

describe('trigger deliveries that meet other writers', () => {
  it('are delivered again without counting a failed attempt, once the contention is over', async () => {
    const { store } = await setUp(new MemoryStore());
    const failures: TriggerErrorEvent[] = [];
    onTriggerError((event) => failures.push(event));
    const hot = HotTarget.create({}, { id: 'hot' });
    await commitAll();
    // More than a delivery's scope retries, several times over: counted as failures, maxAttempts 3 would drop the event.
    targetConflicts = 20;
    Ping.create({}, { id: 'p1' });
    await commitAll();
    await until(() => hot.taken === 1, 'the delivery', 10_000);
    expect(targetConflicts).toBe(0);
    expect(failures).toEqual([]);
    expect(getStats().triggers).toMatchObject({ delivered: 1, failed: 0, dropped: 0 });
    expect((await store.list('trg.Ping', 0)).objects.map((o) => o.objectId)).toEqual(['p1']);
  });
});

describe("a failed call's event meeting another writer's commit", () => {
  const ref = { clsId: 'trg.Order', partitionId: 0, objectId: 'o9' };

  /** Another process commits the order's note at the next version, behind this runtime's back. */
  async function writeBehindTheBack(store: Store, note: string): Promise<void> {
    const stored = await store.get(ref);
    await store.apply([{ kind: 'put', key: ref, expectedVersion: stored!.version, set: new Map([['note', new TextEncoder().encode(JSON.stringify(note))]]) }]);
  }

  /** A failed call whose event's first commit meets a newer version: the runtime reloads the order. Resolves once it has. */
  async function failAfterAnotherWriter(onReload: () => void = () => undefined): Promise<{ log: AuditLog; order: Order }> {
    const { log, store } = await setUp(path);
    const order = Order.create({}, { id: 'o9' });
    await commitAll();
    await until(() => log.entries.length >= 1, 'the create event');
    await writeBehindTheBack(store, 'from elsewhere');
    const reloads: CommitErrorEvent[] = [];
    onCommitError((event) => {
      if (!event.discarded.some((r) => r.objectId === 'o9')) return;
      reloads.push(event);
      if (reloads.length === 1) onReload();
    });
    await expect(order.refuse()).rejects.toThrow('refused');
    await until(() => reloads.length > 0, 'the conflict reload');
    expect(order.note).toBe('from elsewhere');
    return { log, order };
  }

  let path = '';

  it('are reported in the log, with their count, when another writer deleted their object', async () => {
    const { logger, lines } = captureLogs();
    const { log, store } = await setUp(tempSqlite(), logger);
    const order = Order.create({}, { id: 'o9' });
    await commitAll();
    await until(() => log.entries.length >= 1, 'the create event');
    await until(async () => (await store.get(ref))?.version === 2, 'the delivered event removed from the order');
    await store.apply([{ kind: 'delete', key: ref, expectedVersion: 2 }]);
    await expect(order.refuse()).rejects.toThrow('refused');
    await until(() => lines.some((l) => l.msg === 'events of failed calls dropped: another writer deleted their object'), 'the report');
    expect(lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('events of failed calls dropped'))).toMatchObject({ level: 40, object: 'trg.Order/0/o9', events: 1 });
  });

  it('keeps the event through the reload, then commits and delivers it', async () => {
    path = tempSqlite();
    const { log } = await failAfterAnotherWriter();
    await until(() => log.entries.length >= 2, 'the error event');
    expect(log.entries).toEqual(['o9@1 create:note+status', 'o9@4 error:refuse (refused)']);
  });

  it('writes the event in the shutdown right after the reload, and a runtime opened next on the database delivers it', async () => {
    path = tempSqlite();
    let stopped: Promise<void> | undefined;
    // Before any other commit can run: the shutdown's flush is the one that writes the event. It may reject, listing the
    // order as discarded (the failed call's own rolled-back write was pending): what counts here is the event.
    await failAfterAnotherWriter(() => {
      stopped = shutdown().catch(() => undefined);
    });
    await stopped;
    const { log } = await reopen(path);
    await until(() => log.entries.some((e) => e.startsWith('o9@4 error:refuse')), 'the error event, in the next runtime');
    expect(log.entries.filter((e) => e.startsWith('o9@'))).toEqual(['o9@1 create:note+status', 'o9@4 error:refuse (refused)']);
  });
});

describe("a delivery's idempotency record", () => {
  it('expires after idempotencyRetentionMs', async () => {
    const { log, store } = await setUp(tempSqlite(), undefined, { idempotencyRetentionMs: 200 });
    Order.create({}, { id: 'o30' });
    await commitAll();
    await until(() => log.entries.length >= 1, 'the create event');
    const records = async (): Promise<number> => (await store.list('oaas.Idempotency', 0)).objects.length;
    expect(await records()).toBe(1);
    await until(async () => (await records()) === 0, 'the record to expire');
    expect(log.entries).toEqual(['o30@1 create:note+status']);
  });
});

describe('triggers under a clock moved by hand', () => {
  it('are delivered at once, whatever time the runtime`s clock reads', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: new MemoryStore(), clock });
    await runtime.ready();
    const log = AuditLog.create({}, { id: 'audit' });
    StatusBoard.create({}, { id: 'board' });
    Order.create({}, { id: 'o9' });
    await commitAll();
    for (let i = 0; i < 10 && log.entries.length === 0; i++) await clock.advance(10);
    expect(log.entries).toEqual(['o9@1 create:note+status']);
  });
});

describe('trigger declarations at run time', () => {
  it('refuse, when the first object is made, a target whose class no process registered', async () => {
    await freshRuntime({});
    @service('Dangling', { package: 'trg', onCreate: [{ cls: 'Nowhere', method: 'x', objectId: 'a' }] })
    class Dangling extends OaasObject {
      n = 0;
    }
    expect(() => Dangling.create({}, { id: 'd' })).toThrow(RegistrationError);
  });
});
