import { describe, expect, it } from 'vitest';
import { ClassNotFoundError, commitAll, getStats, metricsText, InvalidArgumentError, ObjectRef, sessionScope, StoreError, watch, type WatchEvent } from '../../src/index.js';
import { captureLogs } from '../support/logs.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tempSqlite, tick } from '../support/runtime.js';
import { Account, Counter } from '../support/services.js';

shutdownAfterEach();

/** Waits (bounded) until `events` holds `count` items. */
async function until(events: readonly unknown[], count: number): Promise<void> {
  for (let i = 0; i < 500 && events.length < count; i++) await tick();
  expect(events.length).toBeGreaterThanOrEqual(count);
}

/** The versions a sequence of events accounts for, gaps expanded, in delivery order. */
function accounted(events: readonly WatchEvent[]): number[] {
  return events.flatMap((e) => (e.kind === 'gap' ? Array.from({ length: e.to - e.from + 1 }, (_, i) => e.from + i) : [e.version]));
}

const LOCAL_STORES: [string, () => string][] = [
  ['memory', () => 'memory'],
  ['sqlite', () => tempSqlite()],
];

describe.each(LOCAL_STORES)('watch on the %s store', (_name, spec) => {
  it('delivers every committed version of a hot object in order, with the fields written', async () => {
    await freshRuntime({ store: spec() });
    const counter = Counter.create({}, { id: 'hot' });
    const events: WatchEvent[] = [];
    const stop = watch(counter, (event) => {
      events.push(event);
    });
    await stop.ready;
    await commitAll();
    for (let i = 0; i < 30; i++) {
      await counter.increment();
      await commitAll();
    }
    await until(events, 31);
    expect(events.map((e) => e.kind)).toEqual(['create', ...Array<string>(30).fill('update')]);
    expect(accounted(events)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(events[0]).toMatchObject({ ref: new ObjectRef('test.Counter', 0, 'hot'), changed: expect.arrayContaining(['count', 'history']) as unknown });
    const second = events[1];
    expect(second?.kind === 'gap' ? [] : [...(second?.changed ?? [])].sort()).toEqual(['count', 'history']);
    stop();
  });
});

describe('watch', () => {
  it('delivers the versions committed while an object watch is still reading where it starts', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const counter = Counter.create({}, { id: 'early' });
    await commitAll();
    let release: () => void = () => undefined;
    store.readGate = new Promise<void>((resolve) => (release = resolve));
    const events: WatchEvent[] = [];
    const stop = watch(counter, (event) => {
      events.push(event);
    });
    // Committed while the watch still reads the stored version (which will say 4).
    for (let i = 0; i < 3; i++) {
      await counter.increment();
      await commitAll();
    }
    release();
    await stop.ready;
    await until(events, 3);
    expect(events.map((e) => (e.kind === 'gap' ? e : e.version))).toEqual([2, 3, 4]);
    stop();
  });

  it('gives a listener that falls behind one gap naming exactly the versions it missed, never a silent drop', async () => {
    await freshRuntime();
    const counter = Counter.create({}, { id: 'slow' });
    await commitAll();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const events: WatchEvent[] = [];
    const stop = watch(
      counter,
      async (event) => {
        events.push(event);
        await gate;
      },
      { bufferSize: 3 },
    );
    await stop.ready;
    for (let i = 0; i < 20; i++) {
      await counter.increment();
      await commitAll();
    }
    open();
    await until(events, 5);
    for (let i = 0; i < 20; i++) await tick();
    // v2 is being handled, v3..v5 wait in the buffer, v6..v21 were missed.
    expect(events).toEqual([
      expect.objectContaining({ kind: 'update', version: 2 }),
      expect.objectContaining({ kind: 'update', version: 3 }),
      expect.objectContaining({ kind: 'update', version: 4 }),
      expect.objectContaining({ kind: 'update', version: 5 }),
      { kind: 'gap', ref: counter.asRef(), from: 6, to: 21 },
    ]);
    await counter.increment();
    await commitAll();
    await until(events, 6);
    expect(events[5]).toMatchObject({ kind: 'update', version: 22 });
    expect(getStats().events).toEqual({ watches: 1, committed: 21, received: 0, delivered: 5, gaps: 1 });
    expect(await metricsText()).toMatch(/^oaas_event_gaps_total 1$/m);
    stop();
    expect(getStats().events?.watches).toBe(0);
  });

  it('emits nothing for a scope that threw or a commit the store refused', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const counter = Counter.create({}, { id: 'rb' });
    await commitAll();
    const events: WatchEvent[] = [];
    const stop = watch(Counter, (event) => {
      events.push(event);
    });
    await stop.ready;
    await expect(
      sessionScope(async () => {
        const c = await Counter.load('rb');
        await c.increment();
        throw new RangeError('no');
      }),
    ).rejects.toThrow(RangeError);
    store.failNext(1, () => new StoreError('down', { transient: false }));
    await expect(sessionScope(async () => (await Counter.load('rb')).increment())).rejects.toThrow(StoreError);
    for (let i = 0; i < 20; i++) await tick();
    expect(events).toEqual([]);
    // And a commit that succeeds is heard: the watch was live all along.
    await sessionScope(async () => (await Counter.load('rb')).increment());
    await until(events, 1);
    expect(events).toEqual([expect.objectContaining({ kind: 'update', version: 2, ref: counter.asRef() })]);
    stop();
  });

  it('starts an object watch with `since` by a gap up to the stored version, then live versions', async () => {
    await freshRuntime({ store: tempSqlite() });
    const counter = Counter.create({}, { id: 's' });
    await commitAll();
    for (let i = 0; i < 4; i++) {
      await counter.increment();
      await commitAll();
    }
    const events: WatchEvent[] = [];
    const stop = watch({ clsId: 'test.Counter', partitionId: 0, objectId: 's' }, (event) => {
      events.push(event);
    }, { since: 2 });
    await stop.ready;
    await counter.increment();
    await commitAll();
    await until(events, 2);
    expect(events).toEqual([{ kind: 'gap', ref: counter.asRef(), from: 3, to: 5 }, expect.objectContaining({ kind: 'update', version: 6 })]);
    const current: WatchEvent[] = [];
    const stopCurrent = watch(counter, (event) => {
      current.push(event);
    }, { since: 6 });
    await stopCurrent.ready;
    for (let i = 0; i < 10; i++) await tick();
    expect(current).toEqual([]);
    stop();
    stopCurrent();
  });

  it('follows a class in one partition, deletes included, and stops at unsubscribe', async () => {
    await freshRuntime();
    const events: WatchEvent[] = [];
    const stop = watch('test.Account', (event) => {
      events.push(event);
    }, { partitionId: 1 });
    await stop.ready;
    const inOne = Account.create({}, { id: 'a', partitionId: 1 });
    Account.create({}, { id: 'b', partitionId: 2 });
    Counter.create({}, { id: 'c', partitionId: 1 });
    await commitAll();
    await until(events, 1);
    await inOne.delete();
    await commitAll();
    await until(events, 2);
    expect(events).toEqual([
      { kind: 'create', ref: new ObjectRef('test.Account', 1, 'a'), version: 1, changed: expect.any(Array) as unknown },
      { kind: 'delete', ref: new ObjectRef('test.Account', 1, 'a'), version: 2, changed: [] },
    ]);
    stop();
    Account.create({}, { id: 'a2', partitionId: 1 });
    await commitAll();
    for (let i = 0; i < 20; i++) await tick();
    expect(events).toHaveLength(2);
  });

  it('logs a listener that throws and keeps both the commit and later deliveries', async () => {
    const { logger, lines } = captureLogs();
    await freshRuntime({ logger });
    const counter = Counter.create({}, { id: 't' });
    const seen: number[] = [];
    const stop = watch(counter, (event) => {
      if (event.kind === 'gap') return;
      seen.push(event.version);
      if (event.version === 1) throw new Error('listener broke');
    });
    await stop.ready;
    await commitAll();
    await counter.increment();
    await commitAll();
    await until(seen, 2);
    expect(seen).toEqual([1, 2]);
    expect(lines.some((l) => typeof l.msg === 'string' && l.msg.includes('watch listener threw'))).toBe(true);
    stop();
  });

  it('refuses malformed arguments with typed errors', async () => {
    await freshRuntime();
    const listener = (): void => undefined;
    expect(() => watch(42 as never, listener)).toThrow(InvalidArgumentError);
    expect(() => watch({ clsId: 'x' } as never, listener)).toThrow(InvalidArgumentError);
    expect(() => watch(Counter, 'no' as never)).toThrow(InvalidArgumentError);
    expect(() => watch(Counter, listener, { since: 3 })).toThrow(InvalidArgumentError);
    expect(() => watch(new ObjectRef('test.Counter', 0, 'x'), listener, { partitionId: 1 })).toThrow(InvalidArgumentError);
    expect(() => watch(new ObjectRef('test.Counter', 0, 'x'), listener, { since: -1 })).toThrow(InvalidArgumentError);
    expect(() => watch(Counter, listener, { bufferSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => watch(class NotAService {} as never, listener)).toThrow(ClassNotFoundError);
  });
});
