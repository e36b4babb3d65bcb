/**
 * What the cluster process suites share: member processes (fixtures/member.ts) and their
 * commands, HTTP invocations classified by what a reply says about the call, the slot owners
 * as the membership records them, and reads of the shared store itself.
 */
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach } from 'vitest';
import { commitAll, configureOaas, shutdown } from '../../../src/index.js';
import type { Membership, SlotOwner } from '../../../src/cluster/membership.js';
import { slotOf } from '../../../src/cluster/slots.js';
import { bytesToText, decodeState } from '../../../src/object/codec.js';
import { PostgresMembership } from '../../../src/stores/postgres/membership.js';
import { RedisMembership } from '../../../src/stores/redis/membership.js';
import { createStore, parseStoreSpec } from '../../../src/stores/resolve-store.js';
import type { Store } from '../../../src/stores/store.js';
import { TsChild } from '../../support/child.js';

export const KINDS = ['postgres', 'redis'] as const;
export type Kind = (typeof KINDS)[number];

export const COUNTER = 'cluster.Counter';
export const ACCOUNT = 'cluster.Account';

/** A JSON line a member printed. */
export type MemberEvent = Record<string, unknown> & { event: string };

/** A member's `getStats().cluster`. */
export interface ClusterStats {
  memberId: string;
  incarnation: number;
  members: number;
  ownedSlots: number;
  ownedObjects: number;
  forwardedCalls: number;
  handovers: number;
  takeovers: number;
  fencedCommits: number;
}

function isEvent(value: unknown): value is MemberEvent {
  return typeof value === 'object' && value !== null && typeof (value as { event?: unknown }).event === 'string';
}

const script = new URL('./fixtures/member.ts', import.meta.url);

/** A running member process. */
export class Member {
  url = '';
  control = '';
  /** The script's own process (tsx runs it in a child of the one TsChild started). */
  pid = 0;

  private constructor(
    readonly id: string,
    readonly child: TsChild,
  ) {}

  /** Starts a member on `store` and waits until it serves and has joined. */
  static async start(store: string, id: string, leaseMs: number, env: NodeJS.ProcessEnv = {}): Promise<Member> {
    const member = new Member(id, new TsChild(script, [store], { MEMBER_ID: id, LEASE_MS: String(leaseMs), ...env }));
    running.push(member);
    const ready = await member.waitForEvent((e) => e.event === 'ready', 30_000);
    member.url = ready.url as string;
    member.control = ready.control as string;
    member.pid = ready.pid as number;
    return member;
  }

  /** The JSON lines printed so far. */
  get events(): MemberEvent[] {
    const events: MemberEvent[] = [];
    for (const line of this.child.lines) {
      try {
        const parsed: unknown = JSON.parse(line);
        if (isEvent(parsed)) events.push(parsed);
      } catch {
        // Not one of ours (a stray log line).
      }
    }
    return events;
  }

  /** Waits (bounded) for a printed event matching `match`. */
  async waitForEvent(match: (event: MemberEvent) => boolean, timeoutMs = 15_000): Promise<MemberEvent> {
    await this.child.waitFor(() => this.events.some(match), timeoutMs);
    return this.events.find(match)!;
  }

  /** Runs a command of the member's control server and resolves with its answer. */
  async command<T = Record<string, unknown>>(name: string, body: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    const reply = await post(this.control, `/${name}`, JSON.stringify(body), timeoutMs);
    if (reply.status !== 200) throw new Error(`command ${name} on ${this.id}: ${reply.status} ${reply.text}\n${this.child.stderr}`);
    return JSON.parse(reply.text) as T;
  }

  async stats(): Promise<ClusterStats> {
    return (await this.command<{ cluster: ClusterStats }>('stats')).cluster;
  }

  /**
   * SIGTERM (the member shuts down, hands its slots over and exits); resolves with its exit code.
   * Sent to the script's process alone: tsx, signalled too, kills its child when that does not
   * acknowledge the signal within 60 ms, which a loaded machine does not always manage.
   */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    process.kill(this.pid, 'SIGTERM');
    const [code] = await this.child.exit(timeoutMs);
    forget(this);
    return code;
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    this.child.signal('SIGCONT');
    this.child.signal('SIGKILL');
    await this.child.exit(5000);
    forget(this);
  }
}

const running: Member[] = [];
function forget(member: Member): void {
  const at = running.indexOf(member);
  if (at !== -1) running.splice(at, 1);
}

/** Kills every member still running (a stopped one is continued first, so that it can die). */
export async function killMembers(): Promise<void> {
  await Promise.all([...running].map((member) => member.kill()));
}

/** Registers {@link killMembers} after each test of the calling file. */
export function killMembersAfterEach(): void {
  afterEach(killMembers);
}

/** A reply, or the transport failure that stood for one. */
export interface Reply {
  status: number;
  text: string;
}

/**
 * A POST on a fresh connection (no keep-alive): a server that closes cannot
 * drop a request queued on an idle pooled socket, so a refused connection is
 * the one transport failure that says the call was never received.
 */
export function post(base: string, path: string, body: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const call = request(new URL(path, base), { method: 'POST', agent: false, headers: { 'content-type': 'application/json' }, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      response.on('error', reject);
    });
    call.on('timeout', () => call.destroy(Object.assign(new Error(`no reply in ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    call.on('error', reject);
    call.end(body);
  });
}

/**
 * What an invocation's reply says about its effect:
 * - `acknowledged`: 2xx, the change is durable;
 * - `refused`: 409, rolled back, nothing written;
 * - `notSent`: the connection was refused, so the server never saw the call;
 * - `unknown`: a 5xx, another status, a reset or a timeout: it may have been applied.
 */
export type Outcome = 'acknowledged' | 'refused' | 'notSent' | 'unknown';

export interface Invocation {
  outcome: Outcome;
  /** `2xx`, `409 <code>`, `503 <code>`, `transport ECONNRESET`, ... */
  detail: string;
  status: number;
  value: unknown;
}

/** Invokes `method` of object `objectId` through the server at `url`. */
export async function invoke(url: string, cls: string, objectId: string, method: string, args: unknown[] = [], timeoutMs = 10_000): Promise<Invocation> {
  const body = args.length === 0 ? '' : args.length === 1 ? JSON.stringify(args[0]) : JSON.stringify(args);
  try {
    const reply = await post(url, `/api/class/${cls}/0/objects/${objectId}/invokes/${method}`, body, timeoutMs);
    const code = /"code":"([A-Z_]+)"/.exec(reply.text)?.[1] ?? '';
    if (reply.status >= 200 && reply.status < 300) return { outcome: 'acknowledged', detail: '2xx', status: reply.status, value: reply.text === '' ? undefined : JSON.parse(reply.text) };
    return { outcome: reply.status === 409 ? 'refused' : 'unknown', detail: `${reply.status} ${code}`, status: reply.status, value: reply.text };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
    return { outcome: code === 'ECONNREFUSED' ? 'notSent' : 'unknown', detail: `transport ${code}`, status: 0, value: undefined };
  }
}

/** Per object, how many calls had each outcome. */
export class Tallies {
  readonly byObject = new Map<string, Record<Outcome, number>>();
  readonly details = new Map<string, number>();
  /** The body of the first reply of each kind that was not a 2xx. */
  readonly samples = new Map<string, string>();
  /** The numbers the 2xx replies answered, per object (an increment answers the count after it). */
  readonly answers = new Map<string, number[]>();

  constructor(ids: readonly string[]) {
    for (const id of ids) this.byObject.set(id, { acknowledged: 0, refused: 0, notSent: 0, unknown: 0 });
  }

  /**
   * Per object, the counts two 2xx increments both answered: the second did not build on the
   * first, so one of them is the acknowledged increment the store misses. For failure messages.
   */
  answeredTwice(): string {
    const repeats: string[] = [];
    for (const [id, values] of this.answers) {
      const seen = new Set<number>();
      const twice = values.filter((v) => {
        const repeated = seen.has(v);
        seen.add(v);
        return repeated;
      });
      if (twice.length > 0) repeats.push(`${id}: ${twice.join(', ')}`);
    }
    return repeats.length === 0 ? 'none' : repeats.join('; ');
  }

  add(objectId: string, { outcome, detail, value }: Invocation): void {
    this.byObject.get(objectId)![outcome] += 1;
    if (outcome === 'acknowledged') {
      if (typeof value === 'number') this.answers.set(objectId, [...(this.answers.get(objectId) ?? []), value]);
      return;
    }
    this.details.set(detail, (this.details.get(detail) ?? 0) + 1);
    if (!this.samples.has(detail) && typeof value === 'string') this.samples.set(detail, value.slice(0, 500));
  }

  total(outcome: Outcome): number {
    return [...this.byObject.values()].reduce((n, t) => n + t[outcome], 0);
  }

  /** Replies with a 5xx status. */
  get serverErrors(): number {
    return [...this.details].filter(([detail]) => /^5\d\d /.test(detail)).reduce((n, [, k]) => n + k, 0);
  }

  describe(): string {
    return [...this.details].map(([detail, n]) => `${detail}: ${n}${this.samples.has(detail) ? ` (${this.samples.get(detail)})` : ''}`).join(', ');
  }
}

/** The shared store, opened in the test process to read what the members wrote. */
export class StoreReader {
  private constructor(private readonly store: Store) {}

  static async open(url: string): Promise<StoreReader> {
    return new StoreReader(await createStore(parseStoreSpec(url)));
  }

  /** A field as stored (`undefined` when the object is absent). */
  async field(cls: string, objectId: string, field: string): Promise<unknown> {
    const found = await this.store.get({ clsId: cls, partitionId: 0, objectId });
    const bytes = found?.entries.get(field);
    return bytes === undefined ? undefined : decodeState(bytesToText(bytes));
  }

  async fields(cls: string, ids: readonly string[], field: string): Promise<Map<string, unknown>> {
    return new Map(await Promise.all(ids.map(async (id) => [id, await this.field(cls, id, field)] as const)));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

/** The cluster membership of the store at `url`, as the members keep it. */
export function openMembership(kind: Kind, url: string): Membership {
  return kind === 'postgres' ? new PostgresMembership({ url }) : new RedisMembership({ url });
}

/** The member that owns an object's slot now, if any. */
export function ownerOf(owners: ReadonlyMap<number, SlotOwner>, cls: string, objectId: string): string | undefined {
  return owners.get(slotOf({ clsId: cls, partitionId: 0, objectId }))?.owner;
}

/**
 * Finds, among `candidates`, an object whose slot `member` owns: a slot nobody
 * owns yet is touched through `member` first (a no-op method call), since the
 * first process to serve an object may be the one to take its slot.
 */
export async function objectOwnedBy(
  membership: Membership,
  member: Member,
  cls: string,
  candidates: readonly string[],
  touch: (objectId: string) => Promise<unknown>,
  exclude: ReadonlySet<string> = new Set(),
): Promise<string> {
  for (const objectId of candidates) {
    if (exclude.has(objectId)) continue;
    let owner = ownerOf(await membership.owners(), cls, objectId);
    if (owner === undefined) {
      await touch(objectId);
      owner = ownerOf(await membership.owners(), cls, objectId);
    }
    if (owner === member.id) return objectId;
  }
  throw new Error(`none of ${candidates.length} objects falls in a slot ${member.id} owns`);
}

/**
 * Waits until the members have formed one cluster: each sees all of them and owns slots, and
 * together they own all 256. A member takes every slot while it is alone and hands them over to
 * the ones that join after it in its next rounds, so right after the joins one member owns them all.
 */
export async function settled(members: readonly Member[], timeoutMs = 15_000): Promise<ClusterStats[]> {
  let stats: ClusterStats[] = [];
  await waitUntil(
    async () => {
      stats = await Promise.all(members.map((m) => m.stats()));
      return stats.every((s) => s.members === members.length && s.ownedSlots > 0) && sum(stats.map((s) => s.ownedSlots)) === 256;
    },
    timeoutMs,
    `the cluster of ${members.map((m) => m.id).join(', ')} to settle (last seen ${JSON.stringify(stats.map((s) => [s.members, s.ownedSlots]))})`,
  );
  return stats;
}

/** Polls `probe` until it answers true, at most `timeoutMs`; resolves with the time it took. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

/** Creates objects in the store at `url` through a runtime of the test process (not a member), then shuts it down. */
export async function seed(url: string, create: () => void): Promise<void> {
  await configureOaas({ store: url, autoCommit: false, logLevel: 'silent' });
  create();
  await commitAll();
  await shutdown();
}
