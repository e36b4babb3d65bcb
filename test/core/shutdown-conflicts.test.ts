// shutdown() in a process whose changes conflict with another process's writes, on every store that
// several processes can share: it ends promptly, logs a bounded number of conflicts, reports what it
// could not persist, and leaves what the other process committed intact.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, sessionScope } from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { startServer, unavailable, type TestServer } from '../support/servers.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

/** Generous for a flush of a few objects, far below what a commit retried in a loop takes. */
const SHUTDOWN_BOUND_MS = 5000;

/** What test/fixtures/conflicting-writer.ts prints after its shutdown(). */
interface WriterResult {
  shutdownMs: number;
  /** 'commit conflicted' lines logged while shutdown() ran. */
  conflictLines: number;
  conflictLinesBefore: number;
  outcome: { resolved?: true; name?: string; code?: string; unpersisted?: string[]; message?: string };
  discarded: string[];
  acknowledged: Record<string, number>;
  /** Scopes that conflicted on all of their 1000 retries. */
  gaveUp: number;
}

const children: TsChild[] = [];
async function killChildren(): Promise<void> {
  await Promise.all(
    children.splice(0).map((child) => {
      child.signal('SIGKILL');
      return child.exit(5000);
    }),
  );
}
afterEach(killChildren);
afterAll(killChildren);

/** Starts writers on `store`, waits until each holds its objects, then lets them all go at once. */
async function runWriters(store: string, mode: 'pending' | 'scopes' | 'auto', count: number, runMs: number, counters: number, beforeGo?: () => Promise<void>): Promise<WriterResult[]> {
  const go = join(mkdtempSync(join(tmpdir(), 'oaas-go-')), 'go');
  const writers = Array.from({ length: count }, () => new TsChild(new URL('../fixtures/conflicting-writer.ts', import.meta.url), [store, mode, go, String(runMs), String(counters)]));
  children.push(...writers);
  await Promise.all(writers.map((w) => w.waitFor((line) => line === 'ready', 30_000)));
  await beforeGo?.();
  writeFileSync(go, '');
  const exits = await Promise.all(writers.map((w) => w.exit(60_000)));
  return writers.map((w, i) => {
    expect(exits[i]![0], w.stderr).toBe(0);
    const line = w.lines.find((l) => l.startsWith('result '));
    expect(line, w.stderr).toBeDefined();
    return JSON.parse(line!.slice('result '.length)) as WriterResult;
  });
}

async function seed(store: string, counters: number): Promise<void> {
  await freshRuntime({ store });
  for (let i = 0; i < counters; i++) Counter.create({}, { id: `sc-${i}` });
  await commitAll();
}

async function storedCounts(store: string, counters: number): Promise<number[]> {
  await freshRuntime({ store });
  return Promise.all(Array.from({ length: counters }, async (_, i) => (await Counter.load(`sc-${i}`)).count));
}

for (const kind of ['postgres', 'redis', 'sqlite'] as const) {
  const reason = kind === 'sqlite' ? undefined : await unavailable(kind);
  if (reason !== undefined) console.log(`${kind} shutdown-conflict suites skipped: ${reason}`);

  describe.skipIf(reason !== undefined)(`shutdown with conflicting changes on a shared ${kind} store`, () => {
    let server: TestServer | undefined;
    beforeAll(async () => {
      if (kind !== 'sqlite') server = (await startServer(kind))!;
    }, 60_000);
    afterAll(async () => {
      await server?.destroy();
    });
    const freshStore = async (): Promise<string> => (server === undefined ? tempSqlite() : server.freshStore());

    it('pending changes another process has overtaken: one conflict, a CommitError naming them, the writes of the other process kept', { timeout: 60_000 }, async () => {
      const store = await freshStore();
      await seed(store, 3);
      const [result] = await runWriters(store, 'pending', 1, 0, 3, async () => {
        // This process commits newer versions of two of the objects the writer has pending changes on.
        await sessionScope(async () => {
          for (const id of ['sc-0', 'sc-1']) await (await Counter.load(id)).increment(10);
        });
      });
      console.log(`${kind} pending: shutdown ${result!.shutdownMs} ms, ${result!.conflictLines} conflict lines, outcome ${JSON.stringify(result!.outcome)}`);
      expect(result!.shutdownMs).toBeLessThan(SHUTDOWN_BOUND_MS);
      expect(result!.conflictLines).toBeGreaterThanOrEqual(1);
      expect(result!.conflictLines).toBeLessThanOrEqual(3);
      expect(result!.outcome.code).toBe('OAAS_ERR_COMMIT_FAILED');
      expect(result!.outcome.unpersisted).toEqual(expect.arrayContaining(['sc-0', 'sc-1']));
      const [a, b] = await storedCounts(store, 3);
      expect([a, b]).toEqual([10, 10]);
    });

    it('scopes running at shutdown whose commits conflict do not retry in a loop, and no acknowledged scope is lost', { timeout: 90_000 }, async () => {
      const store = await freshStore();
      await seed(store, 2);
      const results = await runWriters(store, 'scopes', 2, 1500, 2);
      const stored = await storedCounts(store, 2);
      const acknowledged = [0, 1].map((i) => results.reduce((n, r) => n + (r.acknowledged[`sc-${i}`] ?? 0), 0));
      console.log(
        `${kind} scopes: shutdown ${results.map((r) => `${r.shutdownMs} ms`).join(' / ')}, conflict lines during shutdown ` +
          `${results.map((r) => r.conflictLines).join(' / ')} (before ${results.map((r) => r.conflictLinesBefore).join(' / ')}), ` +
          `scopes out of retries ${results.map((r) => r.gaveUp).join(' / ')}, acknowledged ${acknowledged.join('+')}, stored ${stored.join('+')}`,
      );
      for (const result of results) {
        expect(result.shutdownMs, 'shutdown() duration, ms').toBeLessThan(SHUTDOWN_BOUND_MS);
        expect(result.conflictLines, 'conflicts logged during shutdown()').toBeLessThanOrEqual(50);
        if (result.outcome.resolved !== true) expect(result.outcome.code).toBe('OAAS_ERR_COMMIT_FAILED');
        // A conflicting scope re-runs on the state the other process committed: 1000 retries are never all stale.
        expect(result.gaveUp, 'scopes that conflicted on every one of 1000 retries').toBe(0);
      }
      // Each process's resolved scopes are in the store: neither wiped the other's.
      expect(stored).toEqual(acknowledged);
    });

    it('auto-commit of contended objects at shutdown: bounded time and conflicts, failures reported', { timeout: 90_000 }, async () => {
      const store = await freshStore();
      await seed(store, 2);
      const results = await runWriters(store, 'auto', 2, 1500, 2);
      console.log(
        `${kind} auto: shutdown ${results.map((r) => `${r.shutdownMs} ms`).join(' / ')}, conflict lines during shutdown ` +
          `${results.map((r) => r.conflictLines).join(' / ')} (before ${results.map((r) => r.conflictLinesBefore).join(' / ')}), ` +
          `outcomes ${results.map((r) => JSON.stringify(r.outcome)).join(' / ')}`,
      );
      for (const result of results) {
        expect(result.shutdownMs).toBeLessThan(SHUTDOWN_BOUND_MS);
        expect(result.conflictLines).toBeLessThanOrEqual(10);
        if (result.outcome.resolved !== true) {
          expect(result.outcome.code).toBe('OAAS_ERR_COMMIT_FAILED');
          expect(result.outcome.unpersisted?.length).toBeGreaterThan(0);
        }
      }
    });
  });
}
