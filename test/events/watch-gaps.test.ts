import { expect, it } from 'vitest';
import { commitAll, ObjectRef, sessionScope, watch, type Store, type WatchEvent } from '../../src/index.js';
import { createStore, parseStoreSpec } from '../../src/stores/resolve-store.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach, tempSqlite, tick } from '../support/runtime.js';
import { describeOnSharedStores } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

async function until(events: readonly unknown[], count: number, ticks = 2000): Promise<void> {
  for (let i = 0; i < ticks && events.length < count; i++) await tick();
}

it('puts a gap before a version that jumps because another process wrote to the SQLite file', { timeout: 60_000 }, async () => {
  const store = tempSqlite();
  await freshRuntime({ store });
  const counter = Counter.create({}, { id: 'j' });
  await commitAll();
  const events: WatchEvent[] = [];
  const stop = watch(counter, (event) => {
    events.push(event);
  });
  await stop.ready;
  const writer = new TsChild(new URL('../fixtures/events-writer.ts', import.meta.url), [store, 'j', '3', 'keep']);
  try {
    const [code] = await writer.exit(50_000);
    expect(code, writer.stderr).toBe(0);
  } finally {
    writer.signal('SIGKILL');
  }
  // SQLite processes do not hear each other: the next version this process writes shows what it missed.
  await sessionScope(async () => (await Counter.load('j')).increment(), { retries: 3 });
  await until(events, 2);
  stop();
  expect(events).toEqual([{ kind: 'gap', ref: new ObjectRef('test.Counter', 0, 'j'), from: 2, to: 4 }, expect.objectContaining({ kind: 'update', version: 5 })]);
});

await describeOnSharedStores(
  (kind) => `watch across a ${kind} outage`,
  (server) => {
    it('listens again once the server is back, with a gap for what was written while it could not hear', { timeout: 90_000 }, async () => {
      const url = await server.freshStore();
      await freshRuntime({ store: url });
      Counter.create({}, { id: 'o' });
      await commitAll();
      const events: WatchEvent[] = [];
      const stop = watch(new ObjectRef('test.Counter', 0, 'o'), (event) => {
        events.push(event);
      });
      await stop.ready;
      let other: Store | undefined;
      try {
        other = await createStore(parseStoreSpec(url));
        let version = 1;
        const write = async (): Promise<void> => {
          await other!.apply([{ kind: 'put', key: { clsId: 'test.Counter', partitionId: 0, objectId: 'o' }, expectedVersion: version, set: new Map([['count', new TextEncoder().encode(String(version))]]) }]);
          version += 1;
        };
        await write();
        await until(events, 1);
        expect(events).toEqual([expect.objectContaining({ kind: 'update', version: 2 })]);
        await server.stop();
        await server.start();
        // Written at once after the restart, before the listener has reconnected (PostgreSQL retries with back-off).
        let written = false;
        for (let i = 0; i < 50 && !written; i++) {
          written = await write().then(() => true, async () => {
            await new Promise((resolve) => setTimeout(resolve, 100));
            return false;
          });
        }
        expect(written).toBe(true);
        // Then until one is heard (bounded).
        for (let i = 0; i < 100 && events.length < 2; i++) {
          await new Promise((resolve) => setTimeout(resolve, 150));
          if (events.length < 2) await write();
        }
        expect(events.length).toBeGreaterThanOrEqual(2);
        const versions = events.flatMap((e) => (e.kind === 'gap' ? Array.from({ length: e.to - e.from + 1 }, (_, i) => e.from + i) : [e.version]));
        // Every version accounted for exactly once, in order, whatever was missed while deaf.
        expect(versions).toEqual(Array.from({ length: versions.length }, (_, i) => i + 2));
        expect(versions.at(-1)).toBe(version);
      } finally {
        stop();
        await other?.close();
      }
    });
  },
);
