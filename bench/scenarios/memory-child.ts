/**
 * Scenario 5, measured in a child process started with --expose-gc (so the
 * heap can be settled before each reading) and a heap of its own. Prints one
 * JSON line with its figures.
 *
 *     node --expose-gc --import tsx bench/scenarios/memory-child.ts <db-path> <objects> <sessions>
 */
import { commitAll, configureOaas, currentSession, getAutoSessionManager, runInSession, shutdown } from '../../src/index.js';
import { BenchCounter, PlainCounter } from '../support/services.js';
import { yieldToLoop } from '../support/stats.js';

const [path, objectsArg, sessionsArg] = process.argv.slice(2);
const OBJECTS = Number(objectsArg);
const SESSIONS = Number(sessionsArg);
const SAMPLES = 10;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

/** Heap in use after collecting everything collectable (finalizers run between collections). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    await yieldToLoop();
    gc!();
  }
  return process.memoryUsage().heapUsed;
}

await configureOaas({ store: `sqlite:${path!}?synchronous=normal`, autoCommit: true, logLevel: 'silent' });

// Heap per live object: the same three fields as a plain object, then as a live SDK object (committed, so nothing pending).
let before = await settledHeap();
let plain: PlainCounter[] | undefined = [];
for (let i = 0; i < OBJECTS; i++) {
  const p = new PlainCounter();
  p.count = i;
  p.name = `item-${i}`;
  p.updatedAt = 1_700_000_000_000 + i;
  plain.push(p);
}
const plainBytes = ((await settledHeap()) - before) / OBJECTS;
if (plain.length !== OBJECTS) throw new Error('unreachable');
plain = undefined;

before = await settledHeap();
let live: BenchCounter[] | undefined = await runInSession(async () => {
  const created: BenchCounter[] = [];
  for (let i = 0; i < OBJECTS; i++) created.push(BenchCounter.create({ count: i, name: `item-${i}`, updatedAt: 1_700_000_000_000 + i }, { id: `live-${i}` }));
  await commitAll();
  return created;
});
const sdkBytes = ((await settledHeap()) - before) / OBJECTS;
if (live.length !== OBJECTS || getAutoSessionManager().pendingObjectCount !== 0) throw new Error('objects not committed');
live = undefined;

// Short-lived sessions: each creates and commits one object, and keeps no reference.
const oneSession = (i: number): Promise<void> =>
  runInSession(async () => {
    BenchCounter.create({ count: i, name: 'short', updatedAt: i }, { id: `s-${i}` });
    await currentSession().commit();
  });
for (let i = 0; i < 1000; i++) await oneSession(-1 - i); // warm-up, outside the samples
const heap: { sessions: number; bytes: number }[] = [{ sessions: 0, bytes: await settledHeap() }];
const started = performance.now();
for (let i = 1; i <= SESSIONS; i++) {
  await oneSession(i);
  if (i % (SESSIONS / SAMPLES) === 0) heap.push({ sessions: i, bytes: await settledHeap() });
}
const seconds = (performance.now() - started) / 1000;
const runtime = getAutoSessionManager();
const result = {
  objects: OBJECTS,
  plainBytes,
  sdkBytes,
  sessions: SESSIONS,
  sessionsPerSecond: SESSIONS / seconds,
  heap,
  liveObjects: runtime.liveObjectCount,
  pendingSessions: runtime.pendingSessionCount,
};
await shutdown();
console.log(JSON.stringify(result));
