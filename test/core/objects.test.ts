import { describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  InvalidIdError,
  ObjectDeletedError,
  ObjectNotFoundError,
  ObjectRef,
  commitAll,
  runInSession,
} from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { expectFailedShutdown, freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter, Profile } from '../support/services.js';

shutdownAfterEach();

describe('objects and identity', () => {
  it('gives every context that loads an object the same live instance', async () => {
    await freshRuntime();
    Counter.create({ count: 1 }, { id: 'shared' });
    await commitAll();
    const [a, b] = await Promise.all([runInSession(() => Counter.load('shared')), runInSession(() => Counter.load('shared'))]);
    expect(a).toBe(b);
    expect(await Counter.load('shared')).toBe(a);
  });

  it('loads concurrently from the store into a single instance', async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    Counter.create({ count: 7 }, { id: 'cold' });
    await commitAll();
    await freshRuntime({ store });
    const loaded = await Promise.all(Array.from({ length: 10 }, () => Counter.load('cold')));
    expect(new Set(loaded).size).toBe(1);
    expect(loaded[0]!.count).toBe(7);
  });

  it('exposes identity, version and a printable ref', async () => {
    await freshRuntime({ defaultPartition: 3 });
    const c = Counter.create({}, { id: 'c-1' });
    expect([c.id, c.partitionId, c.clsId, c.version]).toEqual(['c-1', 3, 'test.Counter', 0]);
    await commitAll();
    expect(c.version).toBe(1);
    const ref = c.asRef();
    expect(ref).toBeInstanceOf(ObjectRef);
    expect(String(ref)).toBe('test.Counter/3/c-1');
    expect(await ref.load()).toBe(c);
  });

  it('turns numeric ids into decimal strings and generates unique, time-sortable ids', async () => {
    await freshRuntime();
    expect(Counter.create({}, { id: 42 }).id).toBe('42');
    const ids = Array.from({ length: 200 }, () => Counter.create().id);
    expect(new Set(ids).size).toBe(200);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9._:-]{1,160}$/);
  });

  it('refuses malformed ids', async () => {
    await freshRuntime();
    for (const id of ['', 'Upper', 'with space', 'x'.repeat(161), 'slash/no', -1, 1.5]) {
      expect(() => Counter.create({}, { id: id as string })).toThrow(InvalidIdError);
    }
  });

  it('refuses a second live object with the same id, and a create of a stored id at commit', async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    Counter.create({}, { id: 'dup' });
    expect(() => Counter.create({}, { id: 'dup' })).toThrow(AlreadyExistsError);
    await commitAll();
    // A fresh runtime knows nothing live, so the clash shows up at commit.
    await freshRuntime({ store });
    Counter.create({ count: 99 }, { id: 'dup' });
    const error = await commitAll().catch((e: unknown) => e);
    expect((error as { failures: unknown[] }).failures[0]).toBeInstanceOf(AlreadyExistsError);
    const stored = await Counter.load('dup');
    expect(stored.count).toBe(99); // still the pending live object: nothing was lost silently
    expectFailedShutdown(); // the clashing create stays pending, and the final flush reports it
  });

  it('rejects loads of missing objects', async () => {
    await freshRuntime();
    await expect(Counter.load('missing')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('deletes at commit; later calls reject with ObjectDeletedError', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const c = Counter.create({}, { id: 'doomed' });
    await commitAll();
    await c.delete();
    await expect(c.increment()).rejects.toBeInstanceOf(ObjectDeletedError);
    expect(() => {
      c.count = 3;
    }).toThrow(ObjectDeletedError);
    await expect(Counter.load('doomed')).rejects.toBeInstanceOf(ObjectNotFoundError);
    // Until the commit, the store still holds the object as it was committed.
    const before = await store.get({ clsId: 'test.Counter', partitionId: 0, objectId: 'doomed' });
    expect([before?.version, entryValue(before, 'count')]).toEqual([1, 0]);
    await commitAll();
    expect(await store.get({ clsId: 'test.Counter', partitionId: 0, objectId: 'doomed' })).toBeUndefined();
    // The id is free again.
    expect(Counter.create({}, { id: 'doomed' }).count).toBe(0);
  });

  it('stores refs and live objects in fields as identities and reads them back as ObjectRef', async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    const target = Counter.create({}, { id: 'target' });
    const p = Profile.create({}, { id: 'p' });
    p.friend = target;
    expect(p.friend).toBeInstanceOf(ObjectRef);
    p.tags = ['a'];
    await commitAll();
    await freshRuntime({ store });
    const loaded = await Profile.load('p');
    expect(loaded.friend).toBeInstanceOf(ObjectRef);
    expect(String(loaded.friend)).toBe('test.Counter/0/target');
    const friend = await (loaded.friend as ObjectRef).load<Counter>();
    expect(friend.id).toBe('target');
  });
});
