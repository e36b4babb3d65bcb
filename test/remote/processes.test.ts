// Server processes on a shared SQLite file: an acknowledged call survives kill -9, an idempotency key
// survives a restart, and two servers incrementing one object lose no acknowledged increment.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/client.js';
import { ConflictError } from '../../src/index.js';
import { TsChild } from '../support/child.js';
import { freshRuntime, shutdownAfterEach, tempSqlite } from '../support/runtime.js';
import { Counter } from './fixtures/services.js';

shutdownAfterEach();

const children: TsChild[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    child.signal('SIGKILL');
    await child.exit(5000);
  }
});

/** Starts a server process on `store` and resolves with its URL. */
async function startServer(store: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: TsChild; url: string }> {
  const child = new TsChild(new URL('./fixtures/server.ts', import.meta.url), [store], env);
  children.push(child);
  await child.waitFor((line) => line.startsWith('listening '));
  const url = child.lines.find((line) => line.startsWith('listening '))!.slice('listening '.length);
  return { child, url };
}

/** Kills a server process (and its group) with SIGKILL and waits for it. */
async function kill(child: TsChild): Promise<void> {
  child.signal('SIGKILL');
  const [, signal] = await child.exit(5000);
  expect(signal).toBe('SIGKILL');
}

describe('server processes', () => {
  it('an acknowledged invocation survives kill -9 right after its reply', { timeout: 30_000 }, async () => {
    const store = tempSqlite();
    let acknowledged = 0;
    for (let trial = 0; trial < 2; trial++) {
      const { child, url } = await startServer(store);
      const client = connect({ url, timeoutMs: 5000 });
      if (trial === 0) await client.put(Counter, 'durable', { entries: {} });
      const steps = 3 + trial * 4;
      for (let i = 1; i < steps; i++) acknowledged = await client.ref(Counter, 'durable').increment(1);
      // The last call: the process dies as soon as the reply is in.
      const reply = await fetch(`${url}/api/class/remote.Counter/0/objects/durable/invokes/increment`, { method: 'POST', body: '1' });
      const text = await reply.text();
      child.signal('SIGKILL');
      expect(reply.status).toBe(200);
      acknowledged = Number(text);
      await kill(child);
    }
    await freshRuntime({ store });
    expect((await Counter.load('durable')).count).toBe(acknowledged);
    expect(acknowledged).toBe(2 + 6 + 2);
  });

  it('an Idempotency-Key returns the first result after a restart, and the method ran once', { timeout: 30_000 }, async () => {
    const store = tempSqlite();
    const first = await startServer(store);
    const before = connect({ url: first.url, timeoutMs: 5000 });
    await before.put(Counter, 'paid', { entries: {} });
    expect(await before.ref(Counter, 'paid', { idempotencyKey: 'invoice-7' }).increment(5)).toBe(5);
    await kill(first.child);

    const second = await startServer(store);
    const after = connect({ url: second.url, timeoutMs: 5000 });
    expect(await after.ref(Counter, 'paid', { idempotencyKey: 'invoice-7' }).increment(5)).toBe(5);
    expect((await after.get(Counter, 'paid')).entries.count).toBe(5);
    expect(await after.ref(Counter, 'paid', { idempotencyKey: 'invoice-8' }).increment(5)).toBe(10);
    await kill(second.child);

    await freshRuntime({ store });
    expect((await Counter.load('paid')).count).toBe(10);
  });

  /** Runs `calls` increments of one object from 8 concurrent callers, alternating between the servers. */
  async function hammer(urls: string[], calls: number): Promise<{ acknowledged: number; conflicts: number; failures: unknown[] }> {
    const clients = urls.map((url) => connect({ url, timeoutMs: 15_000 }));
    const outcome = { acknowledged: 0, conflicts: 0, failures: [] as unknown[] };
    const worker = async (w: number): Promise<void> => {
      for (let i = w; i < calls; i += 8) {
        try {
          await clients[i % clients.length]!.ref(Counter, 'shared').increment(1);
          outcome.acknowledged += 1;
        } catch (error) {
          if (error instanceof ConflictError) outcome.conflicts += 1;
          else outcome.failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    return outcome;
  }

  it('two servers on one SQLite file: conflicts are real, retried on fresh state, and no acknowledged increment is lost', { timeout: 40_000 }, async () => {
    // Without retries, the two processes' concurrent commits do conflict (409), and a refused call changes nothing.
    const racy = tempSqlite();
    const bare = await Promise.all([startServer(racy, { CONFLICT_RETRIES: '0' }), startServer(racy, { CONFLICT_RETRIES: '0' })]);
    await connect({ url: bare[0].url }).put(Counter, 'shared', { entries: {} });
    const withoutRetries = await hammer(bare.map((s) => s.url), 40);
    expect(withoutRetries.failures).toEqual([]);
    expect(withoutRetries.conflicts).toBeGreaterThan(0);
    await Promise.all(bare.map((s) => kill(s.child)));
    // Read the store itself: a server's GET may answer from its own (older) copy of the object.
    await freshRuntime({ store: racy });
    expect((await Counter.load('shared')).count).toBe(withoutRetries.acknowledged);

    // With retries, each conflicting call re-runs on the state the other process committed.
    const store = tempSqlite();
    const servers = await Promise.all([startServer(store, { CONFLICT_RETRIES: '50' }), startServer(store, { CONFLICT_RETRIES: '50' })]);
    await connect({ url: servers[0].url }).put(Counter, 'shared', { entries: {} });
    const calls = 60;
    const { acknowledged, conflicts, failures } = await hammer(servers.map((s) => s.url), calls);
    expect(failures).toEqual([]);
    expect(acknowledged + conflicts).toBe(calls);
    expect(acknowledged).toBeGreaterThan(calls * 0.9);
    await Promise.all(servers.map((s) => kill(s.child)));
    await freshRuntime({ store });
    expect((await Counter.load('shared')).count).toBe(acknowledged);
  });
});
