/**
 * Cluster members as child processes (`bench/scenarios/cluster-child.ts`),
 * each in a process group of its own: started, asked for stats, told to run
 * load, stopped with SIGTERM (the graceful handover) or killed with SIGKILL.
 * Every wait is bounded; `stopAll` ends every group this module started.
 * Also the helpers the scenario's phases share: owners, calls, counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { HistogramData } from './histogram.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = fileURLToPath(new URL('../scenarios/cluster-child.ts', import.meta.url));

/** What `getStats()` says of a member. */
export interface MemberStats {
  readonly conflicts: number;
  readonly cluster: {
    readonly memberId: string;
    readonly members: number;
    readonly incarnation: number;
    readonly ownedSlots: number;
    readonly ownedObjects: number;
    readonly forwardedCalls: number;
    readonly handovers: number;
    readonly takeovers: number;
    readonly fencedCommits: number;
  };
}

/** What a `load` command answers. */
export interface LoadResult {
  readonly local: HistogramData;
  readonly forwarded: HistogramData;
  readonly errors: number;
  /** The first failed calls: started at `startedAt` (`performance.timeOrigin + performance.now()` in the member), failed after `tookMs`. */
  readonly failures: readonly { readonly startedAt: number; readonly tookMs: number; readonly forwarded: boolean; readonly error: string }[];
}

function bounded<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`cluster scenario: ${what} took longer than ${ms / 1000} s`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

export class MemberProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url = '';
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (reply: Record<string, unknown>) => void; reject: (error: Error) => void }>();
  private stderr = '';
  private readonly started: Promise<void>;

  constructor(store: string, leaseMs: number) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, store, String(leaseMs)], { cwd: root, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr = (this.stderr + chunk).slice(-4000)));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.started = new Promise((resolve, reject) => ((ready = resolve), (failed = reject)));
    this.started.catch(() => undefined); // read through ready(); an exit after it is not an error of the start
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.ready === true) {
        this.url = message.url as string;
        ready();
        return;
      }
      const waiter = this.waiting.get(message.seq as number);
      this.waiting.delete(message.seq as number);
      if (message.failed !== undefined) waiter?.reject(new Error(`cluster scenario: member ${this.url}: ${JSON.stringify(message.failed)}`));
      else waiter?.resolve(message);
    });
    void this.exited.then(({ code, signal }) => {
      const error = new Error(`cluster scenario: member ${this.url || '(starting)'} exited with ${code ?? signal ?? '?'}; stderr: ${this.stderr.trim() || '(empty)'}`);
      failed(error);
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    });
  }

  /** Resolves once the member has joined the cluster (bounded: 60 s, tsx compiles the SDK first). */
  ready(): Promise<void> {
    return bounded('a member start', 60_000, this.started);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private ask<T>(command: Record<string, unknown>, timeoutMs: number): Promise<T> {
    const seq = ++this.seq;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => this.waiting.set(seq, { resolve, reject }));
    this.child.stdin!.write(`${JSON.stringify({ seq, ...command })}\n`);
    return bounded(`${String(command.op)} on ${this.url}`, timeoutMs, reply) as Promise<T>;
  }

  stats(): Promise<MemberStats> {
    return this.ask({ op: 'stats' }, 10_000);
  }

  async owned(ids: readonly string[]): Promise<string[]> {
    return (await this.ask<{ owned: string[] }>({ op: 'owned', ids }, 10_000)).owned;
  }

  load(ids: readonly string[], workers: number, ms: number, seed: number): Promise<LoadResult> {
    return this.ask({ op: 'load', ids, workers, ms, seed }, ms + 30_000);
  }

  private signal(name: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, name);
    } catch {
      // the group is gone already
    }
  }

  /** SIGKILL to the group; resolves once it has exited. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await bounded('a killed member to exit', 10_000, this.exited);
  }

  /** SIGTERM (the member hands its objects over and exits), SIGKILL after 10 s; resolves with the exit code, or the signal that ended it. */
  async stop(): Promise<number | NodeJS.Signals | null> {
    if (!this.alive) {
      const { code, signal } = await this.exited;
      return code ?? signal;
    }
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), 10_000);
    try {
      const { code, signal } = await this.exited;
      return code ?? signal;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts `count` members on `store` at once and waits until each has joined. */
export async function startMembers(all: MemberProcess[], store: string, count: number, leaseMs: number): Promise<MemberProcess[]> {
  const members = Array.from({ length: count }, () => new MemberProcess(store, leaseMs));
  all.push(...members);
  await Promise.all(members.map((m) => m.ready()));
  return members;
}

/**
 * Waits (bounded) until `members` see exactly each other, own the 256 slots
 * between them, and their shares have not changed for `steadyMs`.
 */
export async function settled(members: readonly MemberProcess[], steadyMs: number, timeoutMs = 30_000): Promise<MemberStats[]> {
  const started = Date.now();
  let last = '';
  let since = Date.now();
  for (;;) {
    const stats = await Promise.all(members.map((m) => m.stats()));
    const shares = stats.map((s) => s.cluster.ownedSlots).join(',');
    if (shares !== last) {
      last = shares;
      since = Date.now();
    }
    const total = stats.reduce((n, s) => n + s.cluster.ownedSlots, 0);
    if (total === 256 && stats.every((s) => s.cluster.members === members.length && s.cluster.ownedSlots > 0) && Date.now() - since >= steadyMs) return stats;
    if (Date.now() - started > timeoutMs) throw new Error(`cluster scenario: the members did not share the slots within ${timeoutMs / 1000} s: ${JSON.stringify(stats.map((s) => s.cluster))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Stops every member still running (SIGTERM, then SIGKILL), in parallel. */
export async function stopAll(all: readonly MemberProcess[]): Promise<void> {
  await Promise.all(all.map((m) => m.stop()));
}

/** The class every member serves (bench.Counter of `services.ts`). */
export const CLS = 'bench.Counter';

/** `POST .../objects/{id}/invokes/increment` on `member`. */
export const invokeUrl = (member: MemberProcess, id: string): string => `${member.url}/api/class/${CLS}/0/objects/${id}/invokes/increment`;

/** Object id -> index in `members` of its owner; every id must have exactly one. */
export async function ownersOf(members: readonly MemberProcess[], ids: readonly string[]): Promise<Map<string, number>> {
  const owners = new Map<string, number>();
  const lists = await Promise.all(members.map((m) => m.owned(ids)));
  lists.forEach((owned, index) => {
    for (const id of owned) {
      if (owners.has(id)) throw new Error(`cluster scenario: ${id} is owned by two members`);
      owners.set(id, index);
    }
  });
  const orphans = ids.filter((id) => !owners.has(id));
  if (orphans.length > 0) throw new Error(`cluster scenario: no member owns ${orphans.join(', ')}`);
  return owners;
}

/** A POST without a body; the reply's JSON number. Anything but a 2xx is an error. */
export async function post(url: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(15_000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`cluster scenario: POST ${url}: ${response.status} ${body}`);
  return Number(body);
}

/** The members' counters, summed. */
export type Counters = Omit<MemberStats['cluster'], 'memberId' | 'members' | 'incarnation' | 'ownedSlots' | 'ownedObjects'> & { conflicts: number };

export function totals(stats: readonly MemberStats[]): Counters {
  const sum = (pick: (s: MemberStats) => number): number => stats.reduce((n, s) => n + pick(s), 0);
  return {
    conflicts: sum((s) => s.conflicts),
    forwardedCalls: sum((s) => s.cluster.forwardedCalls),
    handovers: sum((s) => s.cluster.handovers),
    takeovers: sum((s) => s.cluster.takeovers),
    fencedCommits: sum((s) => s.cluster.fencedCommits),
  };
}

export function minus(after: Counters, before: Counters): Counters {
  return {
    conflicts: after.conflicts - before.conflicts,
    forwardedCalls: after.forwardedCalls - before.forwardedCalls,
    handovers: after.handovers - before.handovers,
    takeovers: after.takeovers - before.takeovers,
    fencedCommits: after.fencedCommits - before.fencedCommits,
  };
}
