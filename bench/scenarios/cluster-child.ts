/**
 * One cluster member of the cluster scenario, in a process of its own:
 * `serve()` on 127.0.0.1 (a free port), then `configureOaas` in cluster mode
 * on the PostgreSQL database given. Prints `{"ready":true,"url":...}` once it
 * has joined, then answers commands read from stdin, one JSON line each, with
 * one JSON line each on stdout carrying the command's `seq`. Commands run
 * concurrently (a `stats` can be asked while a `load` runs). On SIGTERM it
 * shuts down (handing its objects over) and exits.
 *
 *     node --import tsx bench/scenarios/cluster-child.ts <postgres url> <leaseMs>
 *
 * Commands:
 * - `{ seq, op: 'stats' }`: `getStats().conflicts` and `getStats().cluster`.
 * - `{ seq, op: 'owned', ids }`: which of `ids` (bench.Counter, partition 0) this member owns.
 * - `{ seq, op: 'load', ids, workers, ms, seed }`: `workers` loops, each for
 *   `ms`, calling `await counter.increment()` on an object picked at random
 *   from `ids` (loaded once with `BenchCounter.load`) and yielding to the
 *   event loop after every call (so this member's server can answer the
 *   calls other members forward to it). Answers the calls made, latency
 *   histograms of local and forwarded calls, and the failed calls (the
 *   first 100: when each started, as `performance.timeOrigin + now()` (a
 *   time the bench process can compare with its own), how long it took and
 *   what it answered).
 */
import { createInterface } from 'node:readline';
import { configureOaas, getAutoSessionManager, getStats, shutdown } from '../../src/index.js';
import { coreOf } from '../../src/object/oaas-object.js';
import { serve } from '../../src/server/serve.js';
import { Histogram } from '../support/histogram.js';
import { BenchCounter } from '../support/services.js';
import { prng, yieldToLoop } from '../support/stats.js';

const [store, lease] = process.argv.slice(2);
if (store === undefined || lease === undefined) throw new Error('usage: cluster-child.ts <postgres url> <leaseMs>');

const server = await serve({ port: 0 });
await configureOaas({ store, cluster: { url: server.url, leaseMs: Number(lease) }, logLevel: 'silent' });

type Command =
  | { seq: number; op: 'stats' }
  | { seq: number; op: 'owned'; ids: string[] }
  | { seq: number; op: 'load'; ids: string[]; workers: number; ms: number; seed: number };

async function load(ids: readonly string[], workers: number, ms: number, seed: number): Promise<object> {
  const objects = await Promise.all(ids.map((id) => BenchCounter.load(id)));
  const local = new Histogram();
  const forwarded = new Histogram();
  let errors = 0;
  const failures: { startedAt: number; tookMs: number; forwarded: boolean; error: string }[] = [];
  const deadline = performance.now() + ms;
  const worker = async (w: number): Promise<void> => {
    const random = prng(seed * 1000 + w);
    while (performance.now() < deadline) {
      const object = objects[Math.floor(random() * objects.length)]!;
      const remote = coreOf(object).remote;
      const started = performance.now();
      try {
        await object.increment();
        (remote ? forwarded : local).record(performance.now() - started);
      } catch (error) {
        errors += 1;
        if (failures.length < 100) {
          const code = (error as { code?: string }).code;
          const message = `${code === undefined ? '' : `${code}: `}${(error as Error).message}`;
          failures.push({ startedAt: performance.timeOrigin + started, tookMs: performance.now() - started, forwarded: remote, error: message });
        }
      }
      await yieldToLoop();
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return { local: local.toJSON(), forwarded: forwarded.toJSON(), errors, failures };
}

async function answer(command: Command): Promise<object> {
  switch (command.op) {
    case 'stats': {
      const stats = getStats();
      return { conflicts: stats.conflicts, cluster: stats.cluster };
    }
    case 'owned': {
      const node = getAutoSessionManager().cluster!;
      return { owned: command.ids.filter((objectId) => node.ownsKey({ clsId: 'bench.Counter', partitionId: 0, objectId })) };
    }
    case 'load':
      return load(command.ids, command.workers, command.ms, command.seed);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Command;
  answer(command).then(
    (reply) => console.log(JSON.stringify({ seq: command.seq, ...reply })),
    (error: unknown) => console.log(JSON.stringify({ seq: command.seq, failed: String(error) })),
  );
});

process.once('SIGTERM', () => {
  // Hand everything over first (the server still relays what arrives meanwhile), then stop listening.
  shutdown()
    .then(() => server.close({ timeoutMs: 2000 }))
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
});
console.log(JSON.stringify({ ready: true, url: server.url, pid: process.pid }));
