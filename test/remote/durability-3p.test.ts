// Three server processes serve the same counters over one PostgreSQL (then Redis) database while
// concurrent clients invoke `increment` through random processes. A 2xx reply means the change is
// durable: afterwards the store itself must hold, per object, at least the acknowledged increments
// and no more than those plus the replies that may have been applied.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commitAll } from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { Counter } from './fixtures/services.js';

shutdownAfterEach();

const PROCESSES = 3;
const OBJECTS = 10;
const WORKERS = 24;
const CALLS = 1500;
/** The clients stop starting calls after this, whatever the count. */
const RUN_MS = 25_000;
const CALL_TIMEOUT_MS = 10_000;
/** Re-runs per call after a conflict at commit (the fixture's CONFLICT_RETRIES). */
const CONFLICT_RETRIES = '3';

const ids = Array.from({ length: OBJECTS }, (_, i) => `d${i}`);

/**
 * What a reply says about the increment it answers:
 * - `acknowledged`: 2xx. The gateway replies only after the call's scope committed: the increment is stored.
 * - `refused`: 409 (`OAAS_ERR_COMMIT_CONFLICT` after the retries ran out, `OAAS_ERR_OBJECT_BUSY`):
 *   the scope was rolled back and nothing was written.
 * - `unknown`: anything else may have been applied. A 5xx (`StoreError`, `CommitError`, an internal error)
 *   can come after the store took the write; a 503 lock timeout or a 504 should not have, but we do not
 *   rely on it; a transport failure or a client timeout leaves the call running in the server. None is
 *   expected in a healthy run.
 */
type Outcome = 'acknowledged' | 'refused' | 'unknown';

interface Tally {
  acknowledged: number;
  refused: number;
  unknown: number;
}

const children: TsChild[] = [];
function killChildren(): Promise<unknown> {
  return Promise.all(
    children.splice(0).map((child) => {
      child.signal('SIGKILL');
      return child.exit(5000);
    }),
  );
}
afterEach(killChildren);
afterAll(killChildren);

async function startProcess(store: string): Promise<string> {
  const child = new TsChild(new URL('./fixtures/server.ts', import.meta.url), [store], { CONFLICT_RETRIES });
  children.push(child);
  await child.waitFor((line) => line.startsWith('listening '), 30_000);
  return child.lines.find((line) => line.startsWith('listening '))!.slice('listening '.length);
}

async function invoke(url: string, id: string): Promise<{ outcome: Outcome; detail: string }> {
  try {
    const reply = await fetch(`${url}/api/class/remote.Counter/0/objects/${id}/invokes/increment`, {
      method: 'POST',
      body: '1',
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    const text = await reply.text();
    if (reply.status >= 200 && reply.status < 300) return { outcome: 'acknowledged', detail: String(reply.status) };
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? '';
    if (reply.status === 409) return { outcome: 'refused', detail: `409 ${code}` };
    return { outcome: 'unknown', detail: `${reply.status} ${code}` };
  } catch (error) {
    return { outcome: 'unknown', detail: `transport ${(error as Error).name}` };
  }
}

for (const kind of ['postgres', 'redis'] as const) {
  const reason = await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} durability suite skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`${PROCESSES} server processes on one ${kind} store`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    });

    it('every 2xx increment is in the store, and only 2xx or may-have-applied replies are', { timeout: 90_000 }, async () => {
      const store = await server.freshStore();
      await freshRuntime({ store });
      for (const id of ids) Counter.create({}, { id });
      await commitAll();
      const urls = await Promise.all(Array.from({ length: PROCESSES }, () => startProcess(store)));

      const tallies = new Map(ids.map((id) => [id, { acknowledged: 0, refused: 0, unknown: 0 } satisfies Tally]));
      const details = new Map<string, number>();
      const deadline = Date.now() + RUN_MS;
      let started = 0;
      const worker = async (): Promise<void> => {
        while (started < CALLS && Date.now() < deadline) {
          started += 1;
          const id = ids[Math.floor(Math.random() * OBJECTS)]!;
          const url = urls[Math.floor(Math.random() * PROCESSES)]!;
          const { outcome, detail } = await invoke(url, id);
          tallies.get(id)![outcome] += 1;
          if (outcome !== 'acknowledged') details.set(detail, (details.get(detail) ?? 0) + 1);
        }
      };
      await Promise.all(Array.from({ length: WORKERS }, () => worker()));
      // Every call has its reply (or timed out): stop the servers hard, then read the store itself.
      await killChildren();

      await freshRuntime({ store });
      const stored = new Map<string, number>();
      for (const id of ids) stored.set(id, (await Counter.load(id)).count);

      const total = (field: keyof Tally): number => [...tallies.values()].reduce((n, t) => n + t[field], 0);
      const storedSum = [...stored.values()].reduce((a, b) => a + b, 0);
      const acknowledged = total('acknowledged');
      console.log(
        `${kind} ${PROCESSES} processes: ${started} calls, 2xx ${acknowledged}, 409 ${total('refused')}, other ${total('unknown')}, ` +
          `stored sum ${storedSum}, lost ${Math.max(0, acknowledged - storedSum)}` +
          (details.size > 0 ? ` (${[...details].map(([d, n]) => `${d}: ${n}`).join(', ')})` : ''),
      );

      const perObject = ids.map((id) => ({ id, stored: stored.get(id)!, ...tallies.get(id)! }));
      // Per object: at least the acknowledged increments, at most those plus the ones that may have landed.
      const lost = perObject.filter((o) => o.stored < o.acknowledged).map((o) => `${o.id}: stored ${o.stored} < 2xx ${o.acknowledged}`);
      const invented = perObject.filter((o) => o.stored > o.acknowledged + o.unknown).map((o) => `${o.id}: stored ${o.stored} > 2xx ${o.acknowledged} + other ${o.unknown}`);
      expect(lost, 'objects missing acknowledged increments').toEqual([]);
      expect(invented, 'objects holding increments nobody acknowledged').toEqual([]);
      // A healthy run has no replies of unknown effect, so the store holds exactly the acknowledged increments.
      expect(total('unknown'), [...details].join(', ')).toBe(0);
      expect(storedSum).toBe(acknowledged);
      expect(acknowledged).toBeGreaterThan(0);
    });
  });
}
