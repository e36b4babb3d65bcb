import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ConflictError,
  InvalidArgumentError,
  MethodNotFoundError,
  MemoryStore,
  ObjectDetachedError,
  OaasObject,
  RegistrationError,
  SerializationError,
  commitAll,
  field,
  getStats,
  metricsText,
  method,
  onReminderError,
  service,
  sessionScope,
  shutdown,
  type ReminderErrorEvent,
  type Store,
} from '../../src/index.js';
import { ManualClock } from '../support/manual-clock.js';
import { freshRuntime, shutdownAfterEach, tempSqlite, tick } from '../support/runtime.js';
import { storeWithoutWakeIndex } from '../support/unindexed-store.js';

shutdownAfterEach();

const ENTRY = '__oaas_reminders';

@service('Invoice', { package: 'rem' })
class Invoice extends OaasObject {
  status = 'draft';
  charges = 0;
  pings = 0;
  failuresLeft = 0;
  notes: string[] = [];

  @method()
  async issue(days = 30): Promise<void> {
    this.status = 'issued';
    this.schedule('charge', { inMs: days * 1000 });
  }

  @method()
  async issueThenFail(): Promise<void> {
    this.status = 'issued';
    this.schedule('charge', { inMs: 1000 });
    throw new Error('issuing failed after scheduling');
  }

  @method()
  async charge(): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      this.charges += 100;
      throw new Error('card declined');
    }
    this.charges += 1;
    this.status = 'charged';
  }

  @method()
  async ping(note = ''): Promise<void> {
    this.pings += 1;
    if (note !== '') this.notes.push(note);
  }

  @method()
  async every(ms: number): Promise<void> {
    this.schedule('ping', { everyMs: ms });
  }

  @method()
  async remind(name: string, inMs: number, note: string): Promise<void> {
    this.schedule('ping', { inMs, name, args: [note] });
  }

  @method()
  async cancel(name: string): Promise<boolean> {
    return this.unschedule(name);
  }

  @method()
  async *stream(): AsyncGenerator<number> {
    yield this.pings;
  }
}

/** Moves the clock in steps, letting the firings each step starts finish. */
async function advance(clock: ManualClock, ms: number, step = 100): Promise<void> {
  for (let moved = 0; moved < ms; moved += step) {
    await clock.advance(Math.min(step, ms - moved));
    for (let i = 0; i < 20; i++) await tick();
  }
}

async function stored(store: Store, id: string): Promise<Map<string, string>> {
  const object = await store.get({ clsId: 'rem.Invoice', partitionId: 0, objectId: id });
  return new Map([...(object?.entries ?? new Map<string, Uint8Array>())].map(([k, v]) => [k, Buffer.from(v).toString('utf8')]));
}

describe.each([
  ['memory', () => new MemoryStore() as Store | string],
  ['sqlite', () => tempSqlite() as Store | string],
])('reminders on the %s store', (_name, makeStore) => {
  it('are written by the commit of the method that set them and fire once when due, with their removal in the same commit', async () => {
    const clock = new ManualClock(1_000_000);
    const runtime = await freshRuntime({ store: makeStore(), clock });
    await runtime.ready();
    const store = runtime.storeView;
    const invoice = Invoice.create({}, { id: 'inv-1' });
    await invoice.issue(30);
    expect(invoice.schedules.map((r) => [r.name, r.method, r.due.getTime()])).toEqual([['charge', 'charge', 1_030_000]]);
    await commitAll();
    expect((await stored(store, 'inv-1')).get(ENTRY)).toContain('"charge"');
    await advance(clock, 29_000, 1000);
    expect(invoice.charges).toBe(0);
    await advance(clock, 2000);
    expect(invoice.charges).toBe(1);
    expect(invoice.status).toBe('charged');
    expect(invoice.schedules).toEqual([]);
    const after = await stored(store, 'inv-1');
    expect(after.get('charges')).toBe('1');
    expect(after.has(ENTRY)).toBe(false);
    await advance(clock, 60_000, 5000);
    expect(invoice.charges).toBe(1);
    expect(getStats().reminders).toMatchObject({ fired: 1, failed: 0, dropped: 0 });
  });

  it('set by a method that throws never fire, and are not stored', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: makeStore(), clock });
    await runtime.ready();
    const invoice = Invoice.create({}, { id: 'inv-2' });
    await commitAll();
    await expect(invoice.issueThenFail()).rejects.toThrow('issuing failed');
    expect(invoice.schedules).toEqual([]);
    expect(invoice.status).toBe('draft');
    await commitAll();
    expect((await stored(runtime.storeView, 'inv-2')).has(ENTRY)).toBe(false);
    await advance(clock, 5000, 500);
    expect(invoice.charges).toBe(0);
  });

  it('set in a scope that fails are rolled back with it', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: makeStore(), clock });
    await runtime.ready();
    const invoice = Invoice.create({}, { id: 'inv-3' });
    await commitAll();
    await expect(
      sessionScope(async () => {
        await invoice.issue(1);
        throw new Error('scope fails');
      }),
    ).rejects.toThrow('scope fails');
    expect(invoice.schedules).toEqual([]);
    await advance(clock, 3000, 500);
    expect(invoice.charges).toBe(0);
    expect((await stored(runtime.storeView, 'inv-3')).has(ENTRY)).toBe(false);
  });

  it('repeat at the right count under fake time, and stop when unscheduled', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: makeStore(), clock });
    await runtime.ready();
    const invoice = Invoice.create({}, { id: 'inv-4' });
    await invoice.every(1000);
    await commitAll();
    await advance(clock, 5500);
    expect(invoice.pings).toBe(5);
    expect(invoice.schedules[0]?.due.getTime()).toBe(6000);
    expect(await invoice.cancel('ping')).toBe(true);
    expect(await invoice.cancel('ping')).toBe(false);
    await commitAll();
    await advance(clock, 3000);
    expect(invoice.pings).toBe(5);
  });

  it('replace a reminder of the same name, pass its arguments, and keep reminders of other names', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: makeStore(), clock });
    await runtime.ready();
    const invoice = Invoice.create({}, { id: 'inv-5' });
    await invoice.remind('a', 1000, 'first');
    await invoice.remind('a', 2000, 'replaced');
    await invoice.remind('b', 1500, 'other');
    expect(invoice.schedules.map((r) => [r.name, r.due.getTime(), r.args])).toEqual([
      ['a', 2000, ['replaced']],
      ['b', 1500, ['other']],
    ]);
    await commitAll();
    await advance(clock, 2500);
    expect(invoice.notes).toEqual(['other', 'replaced']);
  });

  it('retry a failing firing with back-off, report each failure, and give up after maxAttempts', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ store: makeStore(), clock, reminders: { maxAttempts: 3, retryBaseMs: 1000, retryCapMs: 4000 } });
    await runtime.ready();
    const events: ReminderErrorEvent[] = [];
    onReminderError((event) => events.push(event));
    const invoice = Invoice.create({ failuresLeft: 10 }, { id: 'inv-6' });
    await invoice.issue(1);
    await commitAll();
    await advance(clock, 1100);
    expect(events.map((e) => [e.attempt, e.dropped, e.retryAt?.getTime()])).toEqual([[1, false, 2000]]);
    // A failed firing is rolled back whole: the method's change before it threw is not kept.
    expect(invoice.charges).toBe(0);
    expect(invoice.failuresLeft).toBe(10);
    expect(invoice.schedules[0]?.attempts).toBe(1);
    await advance(clock, 1000);
    expect(events.map((e) => [e.attempt, e.dropped, e.retryAt?.getTime()])).toEqual([
      [1, false, 2000],
      [2, false, 4000],
    ]);
    await advance(clock, 2000);
    expect(events).toHaveLength(3);
    expect(events[2]).toMatchObject({ attempt: 3, dropped: true, retryAt: undefined, name: 'charge', method: 'charge' });
    expect(events[2]?.error.message).toBe('card declined');
    expect(events[2]?.ref.objectId).toBe('inv-6');
    expect(invoice.schedules).toEqual([]);
    await advance(clock, 10_000, 1000);
    expect(events).toHaveLength(3);
    expect(getStats().reminders).toMatchObject({ fired: 0, failed: 3, dropped: 1 });
    expect(await metricsText()).toMatch(/oaas_reminders_dropped_total 1/);
  });
});

describe('reminders after a pause of every process', () => {
  it('fire once for all the periods missed, then follow their period', async () => {
    const path = tempSqlite();
    const clock = new ManualClock(0);
    await freshRuntime({ store: path, clock, reminders: { enabled: false } });
    const invoice = Invoice.create({}, { id: 'late' });
    await invoice.every(1000);
    await shutdown();
    // Ten periods later, a process starts again.
    const later = new ManualClock(10_500);
    const runtime = await freshRuntime({ store: path, clock: later });
    await runtime.ready();
    for (let i = 0; i < 50; i++) await tick();
    await advance(later, 100);
    const loaded = await Invoice.load('late');
    expect(loaded.pings).toBe(1);
    expect(loaded.schedules[0]?.due.getTime()).toBe(11_000);
    await advance(later, 1000);
    expect(loaded.pings).toBe(2);
  });
});

let conflictsLeft = 0;

@service('Contended', { package: 'rem' })
class Contended extends OaasObject {
  runs = 0;

  @method()
  async arm(): Promise<void> {
    this.schedule('run', { inMs: 100 });
  }

  /** Meets "another writer" a number of times first, as a firing on a hot object does. */
  @method()
  async run(): Promise<void> {
    if (conflictsLeft > 0) {
      conflictsLeft -= 1;
      throw new ConflictError([{ ref: this.asRef(), expected: this.version, actual: this.version + 1 }]);
    }
    this.runs += 1;
  }
}

describe('reminders that meet other writers', () => {
  it('stay due without counting a failed attempt, and fire once when the contention is over', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ clock, reminders: { maxAttempts: 2 } });
    await runtime.ready();
    const errors: ReminderErrorEvent[] = [];
    onReminderError((event) => errors.push(event));
    const object = Contended.create({}, { id: 'hot' });
    await object.arm();
    await commitAll();
    // More conflicts than a firing's scope retries, twice over: with failures counted, maxAttempts 2 would give it up.
    conflictsLeft = 10;
    // A scope's retries pause in real time: the loop gives them some, as it moves the clock.
    const loaded = await Contended.load('hot');
    for (let i = 0; i < 200 && loaded.runs === 0; i++) {
      await advance(clock, 100, 100);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(conflictsLeft).toBe(0);
    expect(loaded.runs).toBe(1);
    expect(loaded.schedules).toEqual([]);
    expect(errors).toEqual([]);
    expect(getStats().reminders).toMatchObject({ fired: 1, failed: 0, dropped: 0 });
  });
});

@service('Stuck', { package: 'rem' })
class Stuck extends OaasObject {
  entered = 0;
  static entered = 0;

  @method()
  async arm(inMs: number): Promise<void> {
    this.schedule('hang', { inMs });
  }

  @method()
  async hang(): Promise<void> {
    this.entered += 1;
    Stuck.entered += 1;
    await new Promise(() => undefined);
  }
}

describe('reminders and shutdown', () => {
  it('stop firing at shutdown, which a firing that never ends does not hold up past its deadline, and which commits no half of it', { timeout: 20_000 }, async () => {
    const path = tempSqlite();
    await freshRuntime({ store: path, reminders: { pollIntervalMs: 20 } });
    const stuck = Stuck.create({}, { id: 'stuck' });
    await stuck.arm(10);
    await commitAll();
    for (let i = 0; i < 500 && Stuck.entered === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(Stuck.entered).toBe(1);
    const started = Date.now();
    await shutdown({ timeoutMs: 300 }).catch(() => undefined);
    expect(Date.now() - started).toBeLessThan(5000);
    const runtime = await freshRuntime({ store: path, reminders: { enabled: false } });
    const object = await runtime.storeView.get({ clsId: 'rem.Stuck', partitionId: 0, objectId: 'stuck' });
    expect(Buffer.from(object!.entries.get('entered')!).toString()).toBe('0');
    expect(object!.entries.has(ENTRY)).toBe(true);
  });

  it('fire nothing once shut down', async () => {
    const clock = new ManualClock(0);
    const runtime = await freshRuntime({ clock });
    await runtime.ready();
    const invoice = Invoice.create({}, { id: 'after' });
    await invoice.issue(1);
    await commitAll();
    await shutdown();
    await advance(clock, 3000, 500);
    expect(invoice.charges).toBe(0);
    expect(clock.timerCount).toBe(0);
  });
});

describe('schedule() input', () => {
  it('refuses malformed options with typed errors and changes nothing', async () => {
    const clock = new ManualClock(0);
    await freshRuntime({ clock });
    const invoice = Invoice.create({}, { id: 'bad' });
    await commitAll();
    const cases: [unknown, unknown, new (...args: never[]) => Error][] = [
      ['nope', { inMs: 1 }, MethodNotFoundError],
      ['', { inMs: 1 }, InvalidArgumentError],
      [42, { inMs: 1 }, InvalidArgumentError],
      ['stream', { inMs: 1 }, InvalidArgumentError],
      ['ping', undefined, InvalidArgumentError],
      ['ping', null, InvalidArgumentError],
      ['ping', [], InvalidArgumentError],
      ['ping', {}, InvalidArgumentError],
      ['ping', { inMs: -1 }, InvalidArgumentError],
      ['ping', { inMs: 1.5 }, InvalidArgumentError],
      ['ping', { inMs: '5' }, InvalidArgumentError],
      ['ping', { inMs: 1, at: 5 }, InvalidArgumentError],
      ['ping', { at: new Date('invalid') }, InvalidArgumentError],
      ['ping', { at: -5 }, InvalidArgumentError],
      ['ping', { at: Number.POSITIVE_INFINITY }, InvalidArgumentError],
      ['ping', { everyMs: 0 }, InvalidArgumentError],
      ['ping', { inMs: 1, everyMs: 0.5 }, InvalidArgumentError],
      ['ping', { inMs: 1, name: '' }, InvalidArgumentError],
      ['ping', { inMs: 1, name: 'x'.repeat(201) }, InvalidArgumentError],
      ['ping', { inMs: 1, name: 7 }, InvalidArgumentError],
      ['ping', { inMs: 1, args: 'note' }, InvalidArgumentError],
      ['ping', { inMs: 1, args: [() => 1] }, SerializationError],
      ['ping', { inMs: 1, when: 5 }, InvalidArgumentError],
    ];
    for (const [name, options, type] of cases) {
      expect(() => invoice.schedule(name as string, options as never), `${String(name)} ${JSON.stringify(options)}`).toThrow(type);
    }
    expect(() => invoice.unschedule('')).toThrow(InvalidArgumentError);
    expect(() => invoice.unschedule(5 as unknown as string)).toThrow(InvalidArgumentError);
    expect(invoice.schedules).toEqual([]);
    expect(runtimeHasNothingPending()).toBe(true);
  });

  it('is refused on an instance made with new, and on a deleted object', async () => {
    await freshRuntime({});
    const detached = new Invoice();
    expect(() => detached.schedule('ping', { inMs: 1 })).toThrow(ObjectDetachedError);
    const invoice = Invoice.create({}, { id: 'gone' });
    await commitAll();
    await invoice.delete();
    expect(() => invoice.schedule('ping', { inMs: 1 })).toThrow(/deleted/);
  });

  it('is refused with a ConfigurationError on a store without a wake index', async () => {
    // Also in a process that fires no reminders itself: the store still cannot keep them for the others.
    for (const enabled of [true, false]) {
      const runtime = await freshRuntime({ store: storeWithoutWakeIndex(), reminders: { enabled } });
      await runtime.ready();
      await tick();
      const invoice = Invoice.create({}, { id: `plain-${String(enabled)}` });
      await expect(invoice.issue(1)).rejects.toThrow(ConfigurationError);
      expect(invoice.status).toBe('draft');
      await shutdown();
    }
  });

  it('keeps reminders out of the object`s fields and JSON', async () => {
    await freshRuntime({});
    const invoice = Invoice.create({}, { id: 'json' });
    await invoice.issue(1);
    expect(Object.keys(invoice)).not.toContain(ENTRY);
    expect(JSON.stringify(invoice)).not.toContain('__oaas');
    expect(JSON.stringify(invoice)).not.toContain('"due"');
  });

  it('refuses a field stored under a key the SDK keeps for itself', async () => {
    await freshRuntime({});
    @service('Clash', { package: 'rem' })
    class Clash extends OaasObject {
      @field({ key: '__oaas_reminders' }) when = 0;
    }
    expect(() => Clash.create({}, { id: 'c' })).toThrow(RegistrationError);
  });

  it('refuses malformed reminder options in the configuration', async () => {
    const bad: unknown[] = [5, [], { pollIntervalMs: 0 }, { pollIntervalMs: 1.5 }, { maxAttempts: 0 }, { retryBaseMs: 10, retryCapMs: 5 }, { enabled: 'yes' }, { often: 1 }];
    for (const reminders of bad) {
      await expect(freshRuntime({ reminders: reminders as never }), JSON.stringify(reminders)).rejects.toThrow(ConfigurationError);
    }
    await expect(freshRuntime({ reminders: { often: 1 } as never })).rejects.toThrow(/reminders\.often/);
  });
});

function runtimeHasNothingPending(): boolean {
  return getStats().pendingObjects === 0;
}
