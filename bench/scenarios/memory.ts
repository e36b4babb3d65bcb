/**
 * Scenario 5: memory. Heap bytes per live 3-field object, and the heap across
 * many short-lived sessions (each creating and committing one object), which
 * must stay flat. Runs in a child process with --expose-gc (memory-child.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchOptions, ScenarioReport } from '../support/report.js';
import { dbPath } from '../support/sqlite.js';
import { fmt, table } from '../support/stats.js';
import { scaled } from '../support/size.js';

const OBJECTS = scaled(100_000, 2_000);
/** 1M sessions take about two minutes here; the default run does a fifth of them (`--full` runs them all). */
const SESSIONS = { default: scaled(200_000, 2_000), full: scaled(1_000_000, 2_000) };
const MAX_BYTES_PER_OBJECT = 1024;
/** "Flat": the settled heap after the last session is at most this much above the one before the first. */
const MAX_GROWTH_BYTES = 1024 * 1024;

interface ChildResult {
  readonly objects: number;
  readonly plainBytes: number;
  readonly sdkBytes: number;
  readonly sessions: number;
  readonly sessionsPerSecond: number;
  readonly heap: readonly { readonly sessions: number; readonly bytes: number }[];
  readonly liveObjects: number;
  readonly pendingSessions: number;
}

function runChild(sessions: number): Promise<ChildResult> {
  const script = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script, dbPath('s5'), String(OBJECTS), String(sessions)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const limit = setTimeout(() => child.kill('SIGKILL'), 10 * 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`scenario 5: the memory child exited with ${code ?? signal ?? '?'}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;

export async function memory(options: BenchOptions): Promise<ScenarioReport> {
  const r = await runChild(options.full ? SESSIONS.full : SESSIONS.default);
  const first = r.heap[0]!.bytes;
  const last = r.heap.at(-1)!.bytes;
  const peak = Math.max(...r.heap.map((h) => h.bytes));
  const growth = last - first;
  return {
    id: '5',
    title: 'Memory',
    setup:
      `In a child process with \`--expose-gc\`; every heap figure is \`heapUsed\` after forced collections (with event-loop turns between them so finalizers run). ` +
      `Per object: ${OBJECTS.toLocaleString('en-US')} objects with three fields (a number, a distinct short string, a timestamp) held in an array, ` +
      `the SDK's committed (nothing pending). Sessions: ${r.sessions.toLocaleString('en-US')} \`runInSession\` calls in sequence, each creating one object and ` +
      `committing it, keeping no reference${options.full ? '' : ' (scaled down from 1M to fit the run in a few minutes; `npm run bench -- --full` runs 1M)'}.`,
    tables: [
      table(
        ['object', 'heap bytes per object'],
        [
          ['plain class instance', fmt(r.plainBytes)],
          ['live SDK object', fmt(r.sdkBytes)],
        ],
      ),
      table(
        ['sessions done', 'heap after collection'],
        r.heap.map((h) => [h.sessions.toLocaleString('en-US'), mib(h.bytes)]),
      ),
    ],
    verdicts: [
      {
        target: 'at most 1 KiB of heap per live 3-field object',
        measured: `${fmt(r.sdkBytes)} bytes (plain: ${fmt(r.plainBytes)})`,
        pass: r.sdkBytes <= MAX_BYTES_PER_OBJECT,
      },
      {
        target: `flat heap across the sessions (growth <= ${mib(MAX_GROWTH_BYTES)})`,
        measured: `${growth >= 0 ? '+' : ''}${mib(growth)} over ${r.sessions.toLocaleString('en-US')} sessions (${fmt(growth / r.sessions)} bytes per session; peak ${mib(peak)})`,
        pass: growth <= MAX_GROWTH_BYTES,
      },
    ],
    notes: [
      `${fmt(r.sessionsPerSecond)} sessions per second (each one SQLite transaction); after the run the identity map holds ${r.liveObjects} objects and ${r.pendingSessions} sessions have pending changes.`,
    ],
  };
}
