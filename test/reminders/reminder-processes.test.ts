import { describe, expect, it } from 'vitest';
import { bytesToText, decodeState } from '../../src/object/codec.js';
import { createStore, parseStoreSpec } from '../../src/stores/resolve-store.js';
import type { Store } from '../../src/stores/store.js';
import { commitAll, configureOaas, shutdown } from '../../src/index.js';
import { childrenKilledAfterEach, type TsChild } from '../support/child.js';
import { tempSqlite } from '../support/runtime.js';
import { describeOnSharedStores } from '../support/servers.js';
import { openMembership, ownerOf, waitUntil } from '../cluster/processes/harness.js';
import { Job, Tally } from './fixtures/services.js';

const worker = new URL('./fixtures/worker.ts', import.meta.url);
const scheduler = new URL('./fixtures/schedule-and-exit.ts', import.meta.url);
const JOB = 'rem.Job';
const ENTRY = '__oaas_reminders';

const start = childrenKilledAfterEach();

async function startWorker(store: string, id: string, env: NodeJS.ProcessEnv = {}): Promise<TsChild> {
  const child = start(worker, [store], { WORKER_ID: id, ...env });
  await child.waitFor((line) => line.includes('"ready"'), 30_000);
  return child;
}

async function stopWorker(child: TsChild): Promise<void> {
  child.signal('SIGTERM');
  const [code] = await child.exit(20_000);
  expect(code, child.stderr).toBe(0);
}

interface JobRow {
  runs: number;
  firedBy: string[];
  reminders: boolean;
}

/** Reads jobs as stored, through a store of the test's own. */
class Reader {
  private constructor(private readonly store: Store) {}

  static async open(spec: string): Promise<Reader> {
    return new Reader(await createStore(parseStoreSpec(spec)));
  }

  async job(id: string): Promise<JobRow | undefined> {
    const found = await this.store.get({ clsId: JOB, partitionId: 0, objectId: id });
    if (found === undefined) return undefined;
    const read = (key: string): unknown => {
      const bytes = found.entries.get(key);
      return bytes === undefined ? undefined : decodeState(bytesToText(bytes));
    };
    return { runs: read('runs') as number, firedBy: read('firedBy') as string[], reminders: found.entries.has(ENTRY) };
  }

  async jobs(ids: readonly string[]): Promise<JobRow[]> {
    return Promise.all(ids.map(async (id) => (await this.job(id))!));
  }

  async tally(id: string): Promise<number> {
    const found = await this.store.get({ clsId: 'rem.Tally', partitionId: 0, objectId: id });
    const bytes = found?.entries.get('total');
    return bytes === undefined ? 0 : (decodeState(bytesToText(bytes)) as number);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** Creates jobs (each firing adds 1 to tally `ledger`) with a reminder `inMs` from now, through a runtime of the test process. */
async function seedJobs(store: string, ids: readonly string[], inMs: number, ledger = 'sum'): Promise<void> {
  await configureOaas({ store, autoCommit: false, logLevel: 'silent', reminders: { enabled: false } });
  if (ledger !== '') Tally.create({}, { id: ledger });
  for (const id of ids) await Job.create({ ledger }, { id }).start(inMs);
  await commitAll();
  await shutdown();
}

describe('reminders across restarts on SQLite', () => {
  it('a reminder set by a committed method fires once after the process that set it has exited', { timeout: 90_000 }, async () => {
    const store = tempSqlite();
    const setter = start(scheduler, [store, 'later', '2000']);
    // It exits by itself although a reminder is due in 2 s: reminder timers keep no process alive.
    const [code] = await setter.exit(20_000);
    expect(code, setter.stderr).toBe(0);
    const reader = await Reader.open(store);
    try {
      expect(await reader.job('later')).toEqual({ runs: 0, firedBy: [], reminders: true });
      const first = await startWorker(store, 'first');
      await first.waitFor((line) => line.includes('"fired"'), 20_000);
      await stopWorker(first);
      expect(await reader.job('later')).toEqual({ runs: 1, firedBy: ['first'], reminders: false });
      const second = await startWorker(store, 'second');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await stopWorker(second);
      expect(second.lines.filter((line) => line.includes('"fired"'))).toEqual([]);
      expect(await reader.job('later')).toEqual({ runs: 1, firedBy: ['first'], reminders: false });
    } finally {
      await reader.close();
    }
  });

  it('a process SIGKILLed during a firing leaves both the change and the reminder as they were; the next one fires it once', { timeout: 90_000 }, async () => {
    const store = tempSqlite();
    await seedJobs(store, ['kill-me'], 0);
    const reader = await Reader.open(store);
    try {
      const doomed = await startWorker(store, 'doomed', { HANG_IN_RUN: '1' });
      await doomed.waitFor((line) => line.includes('"in-run"'), 20_000);
      doomed.signal('SIGKILL');
      await doomed.exit(10_000);
      // The method had changed the job and the tally in memory: nothing of it, and no advance of the reminder, is stored.
      expect(await reader.job('kill-me')).toEqual({ runs: 0, firedBy: [], reminders: true });
      expect(await reader.tally('sum')).toBe(0);
      const next = await startWorker(store, 'next');
      await next.waitFor((line) => line.includes('"fired"'), 20_000);
      await stopWorker(next);
      expect(await reader.job('kill-me')).toEqual({ runs: 1, firedBy: ['next'], reminders: false });
      expect(await reader.tally('sum')).toBe(1);
    } finally {
      await reader.close();
    }
  });
});

const JOBS = Array.from({ length: 30 }, (_, i) => `job-${String(i).padStart(2, '0')}`);

await describeOnSharedStores(
  (kind) => `reminders with three processes on ${kind}`,
  (server, kind) => {
    async function allFired(reader: Reader): Promise<boolean> {
      return (await reader.jobs(JOBS)).every((job) => job.runs >= 1 && !job.reminders);
    }

    async function expectEachOnce(reader: Reader, ledger = true): Promise<JobRow[]> {
      const jobs = await reader.jobs(JOBS);
      expect(jobs.map((j) => j.runs)).toEqual(JOBS.map(() => 1));
      expect(jobs.map((j) => j.firedBy.length)).toEqual(JOBS.map(() => 1));
      expect(jobs.every((j) => !j.reminders)).toBe(true);
      // Every firing also added 1 to one shared tally, in the same transaction: contended, and exact.
      if (ledger) expect(await reader.tally('sum')).toBe(JOBS.length);
      return jobs;
    }

    it('fire each due reminder exactly once while three processes compete for it', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      await seedJobs(store, JOBS, 500);
      const reader = await Reader.open(store);
      try {
        const workers = await Promise.all(['a', 'b', 'c'].map((id) => startWorker(store, id)));
        await waitUntil(() => allFired(reader), 60_000, 'every job to fire');
        await Promise.all(workers.map((w) => stopWorker(w)));
        await expectEachOnce(reader);
      } finally {
        await reader.close();
      }
    });

    it('fire each exactly once when one process is SIGKILLed inside a firing and another is paused inside one', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      await seedJobs(store, JOBS, 0);
      const reader = await Reader.open(store);
      try {
        const killed = await startWorker(store, 'killed', { HANG_IN_RUN: '1' });
        await killed.waitFor((line) => line.includes('"in-run"'), 20_000);
        killed.signal('SIGKILL');
        await killed.exit(10_000);
        const paused = await startWorker(store, 'paused', { PAUSE_IN_RUN: '1' });
        await paused.waitFor((line) => line.includes('"in-run"'), 20_000);
        paused.signal('SIGSTOP');
        const others = await Promise.all(['b', 'c'].map((id) => startWorker(store, id)));
        await waitUntil(() => allFired(reader), 60_000, 'every job to fire');
        // The paused process wakes up inside a firing the others have since done: its commit must not count it again.
        const pausedIn = JSON.parse(paused.lines.find((line) => line.includes('"in-run"'))!) as { id: string };
        paused.signal('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await Promise.all([...others, paused].map((w) => stopWorker(w)));
        const jobs = await expectEachOnce(reader);
        expect(jobs.some((j) => j.firedBy.includes('killed'))).toBe(false);
        // The job the paused process was firing was fired by another one.
        expect((await reader.job(pausedIn.id))?.firedBy).not.toEqual(['paused']);
      } finally {
        await reader.close();
      }
    });

    it('in cluster mode, the owner of each object fires its reminder, once', { timeout: 120_000 }, async () => {
      const store = await server.freshStore();
      const members = await Promise.all(['m1', 'm2', 'm3'].map((id) => startWorker(store, id, { CLUSTER: '1', LEASE_MS: '2000' })));
      const membership = openMembership(kind, store);
      const reader = await Reader.open(store);
      try {
        await waitUntil(
          async () => {
            const owners = await membership.owners();
            return owners.size === 256 && new Set([...owners.values()].map((o) => o.owner)).size === 3;
          },
          30_000,
          'the three members to share the slots',
        );
        const before = await membership.owners();
        await seedJobs(store, JOBS, 1000, '');
        await waitUntil(() => allFired(reader), 60_000, 'every job to fire');
        const after = await membership.owners();
        await Promise.all(members.map((m) => stopWorker(m)));
        const jobs = await expectEachOnce(reader, false);
        // Jobs whose slot kept its owner throughout were fired by that owner.
        const steady = JOBS.filter((id) => ownerOf(before, JOB, id) === ownerOf(after, JOB, id));
        expect(steady.length).toBeGreaterThan(JOBS.length / 2);
        expect(steady.map((id) => jobs[JOBS.indexOf(id)]!.firedBy[0])).toEqual(steady.map((id) => ownerOf(before, JOB, id)));
        expect(new Set(jobs.map((j) => j.firedBy[0])).size).toBeGreaterThan(1);
      } finally {
        await reader.close();
        await membership.close();
      }
    });
  },
);
