import { expect, it } from 'vitest';
import { commitAll, getStats, ObjectRef, watch, type WatchEvent } from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach, tick } from '../support/runtime.js';
import { describeOnSharedStores } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const VERSIONS = 60;

await describeOnSharedStores(
  (kind) => `watch across processes on ${kind}`,
  (server) => {
    it('hears every version another process commits to a hot object, in order, then its delete', { timeout: 60_000 }, async () => {
      const store = await server.freshStore();
      await freshRuntime({ store });
      Counter.create({}, { id: 'hot' });
      await commitAll();
      const events: WatchEvent[] = [];
      const classEvents: WatchEvent[] = [];
      const stop = watch(new ObjectRef('test.Counter', 0, 'hot'), (event) => {
        events.push(event);
      });
      const stopClass = watch(Counter, (event) => {
        classEvents.push(event);
      });
      await Promise.all([stop.ready, stopClass.ready]);
      const writer = new TsChild(new URL('../fixtures/events-writer.ts', import.meta.url), [store, 'hot', String(VERSIONS)]);
      try {
        const [code] = await writer.exit(50_000);
        expect(code, writer.stderr).toBe(0);
        for (let i = 0; i < 2000 && events.length < VERSIONS + 1; i++) await tick();
      } finally {
        writer.signal('SIGKILL');
        stop();
        stopClass();
      }
      const expected = [
        ...Array.from({ length: VERSIONS }, (_, i) => ({ kind: 'update', ref: new ObjectRef('test.Counter', 0, 'hot'), version: i + 2, changed: ['count', 'history'] })),
        { kind: 'delete', ref: new ObjectRef('test.Counter', 0, 'hot'), version: VERSIONS + 2, changed: [] },
      ];
      const sorted = (list: WatchEvent[]): WatchEvent[] => list.map((e) => (e.kind === 'gap' ? e : { ...e, changed: [...e.changed].sort() }));
      expect(sorted(events)).toEqual(expected);
      expect(sorted(classEvents)).toEqual(expected);
      // Heard once from the store, handed to both watches.
      expect(getStats().events).toMatchObject({ received: VERSIONS + 1, delivered: 2 * (VERSIONS + 1), gaps: 0 });
    });
  },
);
