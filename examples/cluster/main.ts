/**
 * Three cluster members on one PostgreSQL database, in one command:
 *
 *     DATABASE_URL=postgres://user:password@127.0.0.1:5432/db npx tsx examples/cluster/main.ts
 *
 * Starts three member processes (`member.ts`), calls one Counter through
 * each of them over HTTP (every call runs on the counter's owner), stops the
 * owner with SIGTERM (it hands its objects over), calls the counter through
 * the two left, and stops them. Every child is stopped on the way out, also
 * on an error or Ctrl-C. See README.md in this folder.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/client/client.js';
import { ObjectNotFoundError, type OaasStats } from '../../src/index.js';
import { Counter } from './counter.js';

type ClusterStats = NonNullable<OaasStats['cluster']>;

const store = process.env.DATABASE_URL;
if (store === undefined || store === '') {
  console.error(
    [
      'This example needs a PostgreSQL database that the three members share. Set DATABASE_URL, for instance:',
      '',
      '  DATABASE_URL=postgres://postgres:secret@127.0.0.1:5432/postgres npx tsx examples/cluster/main.ts',
      '',
      'A throw-away server for it:  docker run --rm -e POSTGRES_PASSWORD=secret -p 5432:5432 postgres:16',
      '(A Redis URL works as well: DATABASE_URL=redis://127.0.0.1:6379/0.)',
    ].join('\n'),
  );
  process.exit(1);
}

const memberScript = fileURLToPath(new URL('./member.ts', import.meta.url));
const OBJECT_ID = 'demo';

class Member {
  url = '';
  private readonly started: Promise<void>;
  readonly exited: Promise<number | NodeJS.Signals | null>;

  constructor(
    readonly id: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    this.started = new Promise((resolve, reject) => {
      child.on('message', (message: { type?: string; url?: string }) => {
        if (message.type !== 'ready') return;
        this.url = message.url!;
        resolve();
      });
      void this.exited.then((how) => reject(new Error(`${id} exited with ${String(how)} before it was ready`)));
    });
  }

  static start(id: string): Member {
    // fork() runs member.ts with this process's Node options, so under tsx the child runs under tsx too.
    return new Member(id, fork(memberScript, [], { env: { ...process.env, MEMBER_ID: id }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  ready(): Promise<void> {
    return within(60_000, `${this.id} to start`, this.started);
  }

  stats(): Promise<ClusterStats> {
    const answer = new Promise<ClusterStats>((resolve) => {
      const onMessage = (message: { type?: string; cluster?: ClusterStats }): void => {
        if (message.type !== 'stats') return;
        this.child.off('message', onMessage);
        resolve(message.cluster!);
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ type: 'stats' });
    return within(10_000, `the stats of ${this.id}`, answer);
  }

  /** SIGTERM, then SIGKILL if the member has not exited within 15 s. */
  async stop(): Promise<number | NodeJS.Signals | null> {
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`waited ${ms / 1000} s for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits until the running members own all 256 slots between them, each a share. */
async function shared(members: readonly Member[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stats = await Promise.all(members.map((m) => m.stats()));
    const total = stats.reduce((n, s) => n + s.ownedSlots, 0);
    if (total === 256 && stats.every((s) => s.members === members.length && s.ownedSlots > 0)) {
      console.log(`the members share the 256 slots: ${stats.map((s) => `${s.memberId} ${s.ownedSlots}`).join(', ')}`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`the members did not share the slots within 30 s: ${JSON.stringify(stats)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Calls the counter through `member` (over HTTP); the member relays the call to the owner when it is another one. */
async function callThrough(member: Member): Promise<string> {
  const { count, ranOn } = await connect({ url: member.url, timeoutMs: 30_000 }).ref(Counter, OBJECT_ID).increment();
  console.log(`increment() sent to ${member.id}: count ${count}, ran on ${ranOn}`);
  return ranOn;
}

const members = ['member-a', 'member-b', 'member-c'].map((id) => Member.start(id));
let failed = false;
const interrupted = (): void => {
  failed = true;
  console.log('interrupted: stopping the members');
  void Promise.all(members.map((m) => m.stop())).then(() => process.exit(130));
};
process.once('SIGINT', interrupted);
try {
  await Promise.all(members.map((m) => m.ready()));
  for (const m of members) console.log(`${m.id} serves on ${m.url} (pid ${m.child.pid})`);
  await shared(members);

  // The counter survives from run to run in the database; the first run creates it.
  const client = connect({ url: members[0]!.url, timeoutMs: 30_000 });
  await client.get(Counter, OBJECT_ID).catch(async (error: unknown) => {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    await client.put(Counter, OBJECT_ID, { entries: { count: 0 } });
  });

  let owner = '';
  for (const m of members) owner = await callThrough(m);
  const forwarded = await Promise.all(members.map(async (m) => `${m.id} ${(await m.stats()).forwardedCalls}`));
  console.log(`calls forwarded to the owner, per member: ${forwarded.join(', ')}`);

  const ownerMember = members.find((m) => m.id === owner);
  if (ownerMember === undefined) throw new Error(`no member is called ${owner}`);
  console.log(`stopping ${owner}, the owner, with SIGTERM: it hands its objects over before it exits`);
  console.log(`${owner} exited with ${String(await ownerMember.stop())}`);

  const left = members.filter((m) => m !== ownerMember);
  for (const m of left) await callThrough(m);
  await shared(left);
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  process.off('SIGINT', interrupted);
  const codes = await Promise.all(members.map(async (m) => [m.id, await m.stop()] as const));
  console.log(`stopped: ${codes.map(([id, code]) => `${id} (${String(code)})`).join(', ')}`);
}
process.exit(failed ? 1 : 0);
