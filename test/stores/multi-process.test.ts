import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, healthCheck } from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const COUNTERS = 20;
const PER_WORKER = 150;
const WORKERS = 2;

for (const kind of ['postgres', 'redis'] as const) {
  const reason = await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} multi-process suites skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`several processes on one ${kind} store`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server.destroy();
    });

    it('loses no update when processes increment the same counters through scopes with retries', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      await freshRuntime({ store });
      for (let i = 0; i < COUNTERS; i++) Counter.create({}, { id: `mp-${i}` });
      await commitAll();
      const workers = Array.from({ length: WORKERS }, () => new TsChild(new URL('../fixtures/counter-worker.ts', import.meta.url), [store, String(PER_WORKER), String(COUNTERS)]));
      const exits = await Promise.all(workers.map((w) => w.exit(100_000)));
      for (const [i, [code]] of exits.entries()) expect(code, workers[i]!.stderr).toBe(0);
      const conflicts = workers.map((w) => Number(/done \d+ (\d+)/.exec(w.stdout)?.[1]));

      await freshRuntime({ store });
      const counts = await Promise.all(Array.from({ length: COUNTERS }, async (_, i) => (await Counter.load(`mp-${i}`)).count));
      const sum = counts.reduce((a, b) => a + b, 0);
      console.log(`${kind}: ${WORKERS} processes x ${PER_WORKER} increments on ${COUNTERS} counters: sum ${sum}, lost ${WORKERS * PER_WORKER - sum}, conflicts retried ${conflicts.join(' + ')}`);
      expect(sum).toBe(WORKERS * PER_WORKER);
    });

    it('reports reachability, latency and (for PostgreSQL) pool use in healthCheck, and an outage as unreachable', { timeout: 60_000 }, async () => {
      const store = await server.freshStore();
      await freshRuntime({ store });
      const started = performance.now();
      const up = await healthCheck();
      const elapsed = performance.now() - started;
      expect(up).toMatchObject({ ok: true, store: { name: kind, reachable: true } });
      // A measured round trip: more than nothing, and within the call that measured it.
      expect(up.store.latencyMs).toBeGreaterThan(0);
      expect(up.store.latencyMs).toBeLessThanOrEqual(elapsed);
      if (kind === 'postgres') expect(up.store.pool?.total).toBeGreaterThan(0);
      await server.stop();
      try {
        const down = await healthCheck();
        expect(down.ok).toBe(false);
        expect(down.store.reachable).toBe(false);
      } finally {
        await server.start();
      }
    });

    it('keeps every acknowledged scope across a server outage, and never half of one', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      await freshRuntime({ store });
      Counter.create({}, { id: 'left' });
      Counter.create({}, { id: 'right' });
      await commitAll();
      const writer = new TsChild(new URL('../fixtures/outage-writer.ts', import.meta.url), [store, '4000']);
      await writer.waitFor((line) => line === 'ready');
      await sleep(700);
      await server.stop();
      await sleep(1500);
      await server.start();
      const [code] = await writer.exit(60_000);
      expect(code, writer.stderr).toBe(0);
      const acknowledged = writer.lines.filter((l) => /^\d+$/.test(l)).map(Number);
      const failures = Number(/failures (\d+)/.exec(writer.stdout)?.[1]);
      const last = acknowledged.at(-1) ?? 0;

      await freshRuntime({ store });
      const [left, right] = await Promise.all([Counter.load('left'), Counter.load('right')]);
      console.log(`${kind} outage: ${last} scopes acknowledged, ${failures} failed attempts retried, stored ${left.count}/${right.count}`);
      expect(failures).toBeGreaterThan(0); // the outage was felt
      expect(left.count).toBe(right.count); // no scope was committed in part
      expect(left.count).toBeGreaterThanOrEqual(last); // no acknowledged scope was lost
      // A commit whose reply was lost in the outage may have landed before its retry: at most one per failure.
      expect(left.count).toBeLessThanOrEqual(last + failures);
    });
  });
}
