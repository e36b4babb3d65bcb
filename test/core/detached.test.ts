// Instances made with `new` instead of Cls.create()/Cls.load(): plain data, and every SDK call on them is refused loudly.
import { describe, expect, it } from 'vitest';
import {
  OaasError,
  OaasObject,
  ObjectDetachedError,
  commitAll,
  getAutoSessionManager,
  getter,
  method,
  service,
  setter,
} from '../../src/index.js';
import { rejection } from '../support/promises.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { inProcess, json } from '../remote/support.js';

shutdownAfterEach();

@service('Meter', { package: 'core_detached' })
class Meter extends OaasObject {
  count = 0;
  runs = 0;

  @getter() getCount!: () => Promise<number>;
  @setter() setCount!: (value: number) => Promise<void>;

  @method()
  async increment(by = 1): Promise<number> {
    this.runs += 1;
    this.count += by;
    return this.count;
  }

  @method()
  async *countTo(n: number): AsyncGenerator<number> {
    for (let i = 1; i <= n; i++) yield i;
  }

  @method({ stateless: true })
  async describe(unit: string): Promise<string> {
    return `counts ${unit}`;
  }

  /** A stateless method that (wrongly) calls a stateful one on its detached `this`. */
  @method({ stateless: true })
  async sneaky(): Promise<number> {
    return this.increment();
  }

  /** Changes this object, then calls a method of an instance made with `new`: the call fails and is rolled back. */
  @method()
  async useScratch(): Promise<number> {
    this.count += 100;
    const scratch = new Meter();
    return scratch.increment();
  }
}

function expectDetached(error: unknown, member: string): ObjectDetachedError {
  expect(error).toBeInstanceOf(ObjectDetachedError);
  const e = error as ObjectDetachedError;
  expect(e).toBeInstanceOf(OaasError);
  expect(e.code).toBe('OAAS_ERR_OBJECT_DETACHED');
  expect(e.member).toBe(member);
  expect(e.clsId).toBe('core_detached.Meter');
  expect(e.message).toContain('new Meter()');
  expect(e.message).toContain('Meter.create(');
  expect(e.message).toContain('Meter.load(id)');
  return e;
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.fail('expected the call to throw');
}

describe('an instance made with new', () => {
  it('rejects @method calls (a rejected promise, never a synchronous throw) and runs nothing', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const loose = new Meter();
    let call: Promise<number> | undefined;
    expect(() => {
      call = loose.increment(5);
    }).not.toThrow();
    expect(call).toBeInstanceOf(Promise);
    expectDetached(await rejection(call!), 'increment');
    // The body did not run: no field changed, nothing pending, nothing written.
    expect([loose.count, loose.runs]).toEqual([0, 0]);
    expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    await commitAll();
    expect(store.batches).toEqual([]);
  });

  it('a fresh error for every call', async () => {
    await freshRuntime();
    const loose = new Meter();
    const [a, b] = [await rejection(loose.increment()), await rejection(loose.increment())];
    expect(a).not.toBe(b);
  });

  it('rejects streaming methods on the first value, and accessors', async () => {
    await freshRuntime();
    const loose = new Meter();
    const stream = loose.countTo(3);
    expectDetached(await rejection(stream.next()), 'countTo');
    expectDetached(await rejection(loose.getCount()), 'getCount');
    expectDetached(await rejection(loose.setCount(4)), 'setCount');
    expect(loose.count).toBe(0);
  });

  it('still runs stateless methods (they touch no state)', async () => {
    await freshRuntime();
    expect(await new Meter().describe('steps')).toBe('counts steps');
    // ... but a stateless method cannot reach a stateful one through its detached `this`.
    expectDetached(await rejection(new Meter().sneaky()), 'increment');
  });

  it('holds its fields as plain data: reads and writes work, nothing is tracked or persisted', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const loose = new Meter();
    loose.count = 41;
    loose.count += 1;
    expect(loose.count).toBe(42);
    expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    await commitAll();
    expect(store.batches).toEqual([]);
  });

  it('refuses the SDK members: identity getters throw, delete/checkpoint/refresh reject', async () => {
    await freshRuntime();
    const loose = new Meter();
    expectDetached(thrown(() => loose.id), 'id');
    expectDetached(thrown(() => loose.partitionId), 'partitionId');
    expectDetached(thrown(() => loose.clsId), 'clsId');
    expectDetached(thrown(() => loose.version), 'version');
    expectDetached(thrown(() => loose.asRef()), 'asRef');
    for (const [name, call] of [
      ['delete', () => loose.delete()],
      ['checkpoint', () => loose.checkpoint()],
      ['refresh', () => loose.refresh()],
    ] as const) {
      let pending: Promise<void> | undefined;
      expect(() => {
        pending = call();
      }).not.toThrow();
      expectDetached(await rejection(pending!), name);
    }
  });

  it('fails a live method that uses one, and rolls that method back', async () => {
    await freshRuntime();
    const live = Meter.create({ count: 1 }, { id: 'm1' });
    const error = await rejection(live.useScratch());
    expectDetached(error, 'increment');
    expect(live.count).toBe(1);
  });

  it('leaves create() and load() working: their instances are live', async () => {
    await freshRuntime();
    const created = Meter.create({ count: 1 }, { id: 'm2' });
    expect(await created.increment(2)).toBe(3);
    await commitAll();
    const loaded = await Meter.load('m2');
    expect(await loaded.increment()).toBe(4);
    expect(await loaded.getCount()).toBe(4);
  });

  it('over HTTP: stateless methods still run; a stateless body reaching a stateful method is a 500 with the code', async () => {
    await freshRuntime();
    const h = inProcess();
    const ok = await h.request('/api/class/core_detached.Meter/0/invokes/describe', { method: 'POST', body: '"laps"' });
    expect([ok.status, await json(ok)]).toEqual([200, 'counts laps']);
    const bad = await h.request('/api/class/core_detached.Meter/0/invokes/sneaky', { method: 'POST' });
    expect(bad.status).toBe(500);
    const body = (await json(bad)) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('OAAS_ERR_OBJECT_DETACHED');
    expect(body.error.message).toContain('Meter.create(');
  });
});
