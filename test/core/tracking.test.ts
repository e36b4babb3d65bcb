import { describe, expect, it } from 'vitest';
import { SerializationError, commitAll, currentSession, getAutoSessionManager } from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter, Profile } from '../support/services.js';

shutdownAfterEach();

const key = (objectId: string) => ({ clsId: 'test.Profile', partitionId: 0, objectId });

async function committedProfile(store: RecordingStore, id: string, mutate: (p: Profile) => void): Promise<string[]> {
  const p = Profile.create({}, { id });
  await commitAll();
  const before = store.batches.length;
  mutate(p);
  await commitAll();
  return store.batches.slice(before).flatMap((b) => b.flatMap((op) => (op.kind === 'put' ? [...(op.set?.keys() ?? [])] : [])));
}

describe('change tracking', () => {
  it('persists reassignment, direct assignment from outside a method, and in-place edits', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    expect(await committedProfile(store, 'assign', (p) => (p.name = 'Ada'))).toEqual(['name']);
    expect(await committedProfile(store, 'push', (p) => p.tags.push('x'))).toEqual(['tags']);
    expect(await committedProfile(store, 'nested', (p) => (p.address.city = 'Paris'))).toEqual(['address']);
    expect(await committedProfile(store, 'nested-add', (p) => (p.address.zip = '75001'))).toEqual(['address']);
    expect(await committedProfile(store, 'nested-delete', (p) => delete (p.address as { city?: string }).city)).toEqual(['address']);
    expect(await committedProfile(store, 'map', (p) => p.scores.set('a', 1))).toEqual(['scores']);
    expect(await committedProfile(store, 'set', (p) => p.seen.add('id-1'))).toEqual(['seen']);
    expect(await committedProfile(store, 'date', (p) => p.birthday.setUTCFullYear(1990))).toEqual(['birthday']);
    expect(await committedProfile(store, 'bytes', (p) => (p.avatar[0] = 7))).toEqual(['avatar']);
    expect(await committedProfile(store, 'bytes-fill', (p) => p.avatar.fill(1))).toEqual(['avatar']);
    expect(await committedProfile(store, 'sort', (p) => p.tags.push('b', 'a') && p.tags.sort())).toEqual(['tags']);
    expect(await committedProfile(store, 'renamed', (p) => (p.nickname = 'ada'))).toEqual(['nick_name']);
    expect(await committedProfile(store, 'transient', (p) => p.cache.set('k', 1))).toEqual([]);
    const stored = await store.get(key('map'));
    expect(entryValue(stored, 'scores')).toEqual({ $t: 'm', v: [['a', 1]] });
  });

  it('tracks edits through values read out earlier and through Map values and iteration', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    const p = Profile.create({}, { id: 'held' });
    const tags = p.tags;
    await commitAll();
    tags.push('later');
    p.scores.set('x', 1);
    await commitAll();
    expect(entryValue(await store.get(key('held')), 'tags')).toEqual(['later']);
    const nested = Profile.create({ friend: { list: [{ n: 1 }] } }, { id: 'deep' });
    await commitAll();
    for (const item of (nested.friend as { list: { n: number }[] }).list) item.n += 1;
    await commitAll();
    expect(entryValue(await store.get(key('deep')), 'friend')).toEqual({ list: [{ n: 2 }] });
  });

  it('copies assigned values: later edits of the original do not leak into state', async () => {
    await freshRuntime();
    const p = Profile.create({}, { id: 'copy' });
    const mine = ['a'];
    p.tags = mine;
    mine.push('b');
    expect(p.tags).toEqual(['a']);
  });

  it('writes nothing when an edit is undone before the commit', async () => {
    const store = new RecordingStore();
    await freshRuntime({ store });
    expect(await committedProfile(store, 'undo', (p) => {
      p.name = 'tmp';
      p.name = '';
    })).toEqual([]);
  });

  it('refuses values that cannot be stored, naming class, object and path, and keeps the old value', async () => {
    await freshRuntime();
    const p = Profile.create({ tags: ['ok'] }, { id: 'refuse' });
    const error = (() => {
      try {
        p.friend = { nested: [1, () => 2] };
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as SerializationError).message).toContain('test.Profile/refuse');
    expect((error as SerializationError).path).toBe('friend.nested[1]');
    expect(p.friend).toBeNull();
    expect(() => p.tags.push(Symbol('s') as unknown as string)).toThrow(SerializationError);
    expect(() => (p.name = NaN as unknown as string)).toThrow(SerializationError);
    expect(p.tags).toEqual(['ok']);
  });

  it('keeps the commit proportional to the objects touched, not the objects loaded', async () => {
    const store = tempSqlite();
    await freshRuntime({ store });
    for (let i = 0; i < 500; i++) Counter.create({ count: i }, { id: `bulk-${i}` });
    await commitAll();
    await freshRuntime({ store });
    const loaded = await Promise.all(Array.from({ length: 500 }, (_, i) => Counter.load(`bulk-${i}`)));
    expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    loaded[42]!.count += 1;
    expect(getAutoSessionManager().pendingObjectCount).toBe(1);
    expect(currentSession().pendingCount).toBe(1);
    const summary = await commitAll();
    expect(summary.committed).toBe(1);
  });
});
