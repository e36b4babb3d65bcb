/**
 * Scenario 7: remote invocation. A durable increment over HTTP on 127.0.0.1,
 * driven by autocannon: the SDK's `serve()` on SQLite (each reply sent after
 * its commit) against the same virtual-object handler on the Restate server
 * (each reply sent after its journal is in Restate's log), with a plain
 * `node:http` handler that stores nothing as the HTTP floor. Every server runs
 * in a child process group of its own, killed at the end, also on error.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { ScenarioReport } from '../support/report.js';
import { sdkStoreSpec } from '../support/sqlite.js';
import { ratioText, ratios, spread, summarize, table } from '../support/stats.js';
import { scaled } from '../support/size.js';

const CONNECTIONS = 10;
const DURATION_S = scaled(5, 1);
const WARMUP_S = 1;
const RUNS = scaled(2, 1);
const KEYS = Array.from({ length: 10 }, (_, i) => `k${i}`);
const CLS = 'bench.Counter';
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly ok: number;
}

/** A process group we started, stopped with SIGTERM then SIGKILL, each wait bounded. */
class Group {
  private readonly exited: Promise<void>;
  constructor(readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  private wait(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]).finally(() => clearTimeout(timer));
  }

  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(-pid, name);
      } catch {
        // the group is gone already
      }
    };
    signal('SIGTERM');
    if (await this.wait(5000)) return;
    signal('SIGKILL');
    await this.wait(2000);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `remote-invocation-child.ts <args>` and waits (at most 30 s) for the port it prints. */
async function startChild(groups: Group[], args: string[]): Promise<number> {
  const script = fileURLToPath(new URL('./remote-invocation-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  groups.push(new Group(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`scenario 7: child ${args[0]} did not start within 30 s`)), 30_000);
    child.once('exit', (code, sig) => reject(new Error(`scenario 7: child ${args[0]} exited with ${code ?? sig ?? '?'}`)));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
  });
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`scenario 7: ${what} not ready within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function post(url: string, body?: string): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers: body === undefined ? {} : { 'content-type': 'application/json' }, signal: AbortSignal.timeout(10_000) });
}

/** `CONNECTIONS` connections for `seconds`; connection i starts at key i, then goes round the keys. */
async function load(base: string, path: (key: string) => string, seconds: number): Promise<Load> {
  const requests = KEYS.map((key) => ({ method: 'POST' as const, path: path(key) }));
  let next = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    requests,
    setupClient: (client) => {
      const start = next++ % requests.length;
      client.setRequests([...requests.slice(start), ...requests.slice(0, start)]);
    },
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`scenario 7: ${base}: ${result.non2xx} non-2xx replies and ${result.errors} errors (${result.timeouts} timeouts)`);
  }
  return { rps: result['2xx'] / result.duration, p50: result.latency.p50, p99: result.latency.p99, mean: result.latency.average, ok: result['2xx'] };
}

interface Restate {
  readonly ingress: string;
  readonly version: string;
  readonly settings: string;
}

/** The Restate server binary of the platform package `@restatedev/restate-server` depends on. */
function restateBinary(): string {
  return createRequire(import.meta.url).resolve(`@restatedev/restate-server-${process.platform}-${process.arch}/bin/restate-server`);
}

/** Starts restate-server on 127.0.0.1 (free ports, a temp base dir) and registers the endpoint on `endpointPort`. */
async function startRestate(groups: Group[], dir: string, endpointPort: number): Promise<Restate> {
  const binary = restateBinary();
  const [fabric, ingress, admin] = [await freePort(), await freePort(), await freePort()];
  const args = ['--no-logo', '--listen-mode', 'tcp', '--bind-ip', '127.0.0.1', '--bind-port', String(fabric), '--node-name', 'bench', '--base-dir', dir];
  const env = {
    ...process.env,
    RESTATE_INGRESS__BIND_PORT: String(ingress),
    RESTATE_ADMIN__BIND_PORT: String(admin),
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
  };
  const version = spawnText(binary, ['--version'], env).trim();
  const config = spawnText(binary, [...args, '--dump-config'], env);
  const log = openSync(join(dir, 'server.log'), 'a');
  try {
    groups.push(new Group(spawn(binary, args, { env, detached: true, stdio: ['ignore', log, log] })));
  } finally {
    closeSync(log);
  }
  const adminUrl = `http://127.0.0.1:${admin}`;
  const ingressUrl = `http://127.0.0.1:${ingress}`;
  try {
    await until('restate admin', 30_000, async () => (await fetch(`${adminUrl}/health`)).ok);
    await until('restate ingress', 30_000, async () => (await fetch(`${ingressUrl}/restate/health`)).ok);
    const registered = await fetch(`${adminUrl}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}` }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!registered.ok) throw new Error(`scenario 7: registering the deployment: ${registered.status} ${await registered.text()}`);
    await until('counter on the ingress', 30_000, async () => (await post(`${ingressUrl}/counter/${KEYS[0]!}/get`)).ok);
  } catch (error) {
    const tail = readFileSync(join(dir, 'server.log'), 'utf8').split('\n').slice(-15).join('\n');
    throw new Error(`${(error as Error).message}\nrestate-server log (last lines):\n${tail}`, { cause: error });
  }
  return { ingress: ingressUrl, version, settings: durabilitySettings(config) };
}

function spawnText(binary: string, args: string[], env: NodeJS.ProcessEnv): string {
  // --version and --dump-config print and exit; bounded all the same.
  return execFileSync(binary, args, { env, encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** The settings that decide when Restate acknowledges, read from its own `--dump-config`. */
function durabilitySettings(toml: string): string {
  const wanted = new Map([
    ['default-replication', ''],
    ['default-num-partitions', ''],
    ['bifrost.default-provider', ''],
    ['log-server.rocksdb-disable-wal-fsync', ''],
    ['bifrost.local.rocksdb-disable-wal-fsync', ''],
  ]);
  let section = '';
  for (const line of toml.split('\n')) {
    const header = /^\[(.+)\]$/.exec(line.trim());
    if (header !== null) section = header[1]!;
    const kv = /^([\w-]+)\s*=\s*(.+)$/.exec(line.trim());
    if (kv === null) continue;
    const key = section === '' ? kv[1]! : `${section}.${kv[1]!}`;
    if (wanted.has(key)) wanted.set(key, kv[2]!);
  }
  return [...wanted].map(([k, v]) => `\`${k} = ${v === '' ? '?' : v}\``).join(', ');
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

async function sum(urls: string[], read: (response: Response) => Promise<number>, method: 'GET' | 'POST'): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const response = await fetch(url, { method, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`scenario 7: ${method} ${url}: ${response.status}`);
    total += await read(response);
  }
  return total;
}

/**
 * Every acknowledged increment must be stored. A few more may be: autocannon stops with up to one
 * request per connection in flight, which the server completes but nobody counts.
 */
function checkCount(who: string, stored: number, acknowledged: number): void {
  const inFlight = CONNECTIONS * (RUNS + 1);
  if (stored < acknowledged || stored > acknowledged + inFlight) {
    throw new Error(`scenario 7: ${who} holds ${stored} increments, ${acknowledged} were acknowledged (plus at most ${inFlight} in flight at the stops)`);
  }
}

export async function remoteInvocation(): Promise<ScenarioReport> {
  const title = 'Remote invocation';
  const groups: Group[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'oaas-bench-restate-'));
  try {
    const plainPort = await startChild(groups, ['plain']);
    // synchronous=FULL: every commit is fsynced before the reply, as Restate fsyncs its log; a like-for-like durability setting.
    const sdkPort = await startChild(groups, ['sdk', sdkStoreSpec('s7', 'full')]);
    const sdk = `http://127.0.0.1:${sdkPort}`;
    const plain = `http://127.0.0.1:${plainPort}`;
    const sdkPath = (key: string): string => `/api/class/${CLS}/0/objects/${key}/invokes/increment`;
    for (const key of KEYS) {
      const put = await fetch(`${sdk}/api/class/${CLS}/0/objects/${key}`, { method: 'PUT', body: '{"entries":{}}', signal: AbortSignal.timeout(10_000) });
      if (!put.ok) throw new Error(`scenario 7: creating ${key}: ${put.status} ${await put.text()}`);
    }

    let restate: Restate | { skipped: string };
    try {
      restateBinary();
      const endpointPort = await startChild(groups, ['restate']);
      restate = await startRestate(groups, dir, endpointPort);
    } catch (error) {
      if (!(error instanceof Error) || !/Cannot find module|MODULE_NOT_FOUND/.test(error.message)) throw error;
      restate = { skipped: `no restate-server binary for ${process.platform}-${process.arch} in node_modules (${error.message.split('\n')[0]!})` };
    }
    const restatePath = (key: string): string => `/counter/${key}/increment`;

    const contenders: { name: string; base: string; path: (key: string) => string }[] = [
      { name: 'plain', base: plain, path: (key) => `/${key}` },
      { name: 'sdk', base: sdk, path: sdkPath },
      ...('ingress' in restate ? [{ name: 'restate', base: restate.ingress, path: restatePath }] : []),
    ];
    const runs = new Map<string, Load[]>(contenders.map((c) => [c.name, []]));
    const acknowledged = new Map<string, number>(contenders.map((c) => [c.name, 0]));
    for (const c of contenders) acknowledged.set(c.name, (await load(c.base, c.path, WARMUP_S)).ok);
    // Interleave the contenders run by run, so a slow phase of the machine hits them all.
    for (let run = 0; run < RUNS; run++) {
      for (const c of contenders) {
        const measured = await load(c.base, c.path, DURATION_S);
        runs.get(c.name)!.push(measured);
        acknowledged.set(c.name, acknowledged.get(c.name)! + measured.ok);
      }
    }

    // Every acknowledged increment must be in the state.
    const sdkCount = await sum(KEYS.map((k) => `${sdk}/api/class/${CLS}/0/objects/${k}`), async (r) => ((await r.json()) as { entries: { count: number } }).entries.count, 'GET');
    checkCount('the SDK', sdkCount, acknowledged.get('sdk')!);
    if ('ingress' in restate) {
      const restateCount = await sum(KEYS.map((k) => `${restate.ingress}/counter/${k}/get`), async (r) => Number(await r.text()), 'POST');
      checkCount('Restate', restateCount, acknowledged.get('restate')!);
    }

    const rps = (name: string): number[] => runs.get(name)!.map((r) => r.rps);
    const row = (name: string, label: string, durability: string): string[] => {
      const list = runs.get(name)!;
      return [
        label,
        durability,
        spread(summarize(list.map((r) => r.rps)), '/s'),
        spread(summarize(list.map((r) => r.p50)), ' ms'),
        spread(summarize(list.map((r) => r.p99)), ' ms'),
        spread(summarize(list.map((r) => r.mean)), ' ms'),
        name === 'sdk' ? '' : ratioText(ratios(rps('sdk'), rps(name))),
      ];
    };
    const rows = [
      row('sdk', `SDK \`serve()\`, \`POST .../objects/{id}/invokes/increment\``, 'SQLite WAL, synchronous=FULL (fsync per commit); reply after commit'),
      ...('ingress' in restate ? [row('restate', 'Restate server, `POST /counter/{key}/increment`', 'its log (fsync on, 1 copy); reply after the invocation completes')] : []),
      row('plain', '`node:http` handler, counter in memory', 'none (HTTP floor)'),
    ];
    const latency = (name: string, pick: (r: Load) => number): number => summarize(runs.get(name)!.map(pick)).median;
    const notes = [
      'ingress' in restate
        ? `SDK / Restate: ${ratioText(ratios(rps('sdk'), rps('restate')))} the requests/s; p50 ${latency('sdk', (r) => r.p50)} vs ${latency('restate', (r) => r.p50)} ms, ` +
          `p99 ${latency('sdk', (r) => r.p99)} vs ${latency('restate', (r) => r.p99)} ms. SDK / plain \`node:http\`: ${ratioText(ratios(rps('sdk'), rps('plain')))} the requests/s.`
        : `SDK / plain \`node:http\`: ${ratioText(ratios(rps('sdk'), rps('plain')))} the requests/s.`,
      'autocannon records latencies in whole milliseconds, so p50 and p99 below 1 ms read 0; the mean column keeps the fraction.',
      `Versions: autocannon ${packageVersion('autocannon')}, @restatedev/restate-sdk ${packageVersion('@restatedev/restate-sdk')}, ` +
        ('ingress' in restate ? `${restate.version} (npm @restatedev/restate-server ${packageVersion('@restatedev/restate-server')})` : 'restate-server not run') +
        '.',
      "SDK: store `sqlite:<tmp>/s7.db?synchronous=full` (journal_mode=WAL, fsync per commit whatever `BENCH_SQLITE_SYNCHRONOUS` says, to match Restate's fsynced log); the server replies after the request's commit.",
      'ingress' in restate
        ? `Restate: defaults except ports and base dir (single node, all roles, 127.0.0.1, temp base dir); durability settings as the server reports them (\`--dump-config\`): ${restate.settings}. ` +
          'The Restate SDK endpoint (Node, HTTP/2) runs in its own process; restate-server calls it for every invocation.'
        : `Restate: skipped: ${restate.skipped}.`,
      `Checked after the runs (SDK${'ingress' in restate ? ' and Restate' : ''}): every acknowledged increment is in the stored counts, which exceed them by at most the requests in flight when autocannon stopped.`,
      'autocannon runs in the bench process; each server in a child process of its own. On this 2-core machine load generator and servers compete for the cores, so absolute figures are low; compare the ratios.',
    ];
    return {
      id: '7',
      title,
      setup:
        `autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per run, ${RUNS} runs per contender interleaved (after a ${WARMUP_S} s warm-up each); ` +
        `each connection goes round ${KEYS.length} object keys (starting at a different one). Requests/s = 2xx replies / duration; p50 and p99 are autocannon's latency percentiles. ` +
        'Median (min-max) over the runs. All on 127.0.0.1.',
      tables: [table(['contender', 'durability', 'requests/s', 'p50', 'p99', 'mean', 'SDK / this (req/s)'], rows)],
      verdicts:
        'ingress' in restate
          ? [
              {
                target: "at least 2x Restate's requests/s, at a lower p99, with the SDK on synchronous=FULL",
                measured: `${ratioText(ratios(rps('sdk'), rps('restate')))}; p99 ${latency('sdk', (r) => r.p99)} vs ${latency('restate', (r) => r.p99)} ms`,
                pass: ratios(rps('sdk'), rps('restate')).median >= 2 && latency('sdk', (r) => r.p99) < latency('restate', (r) => r.p99),
              },
            ]
          : [],
      notes,
    };
  } finally {
    for (const group of groups.reverse()) await group.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
