// Several cluster members in this process: each a runtime of its own with its own HTTP server, on one real store.
import { expect } from 'vitest';
import { resolveConfig, type OaasConfig } from '../../../src/config.js';
import type { ObjectKey } from '../../../src/identity.js';
import { OaasRuntime } from '../../../src/runtime/oaas-runtime.js';
import { serve, type RunningServer } from '../../../src/server/serve.js';

export interface Member {
  readonly runtime: OaasRuntime;
  readonly server: RunningServer;
}

/** Starts `count` members on `store`, and waits until they have shared the 256 slots between them. */
export async function startMembers(store: string, count: number, config: OaasConfig & { leaseMs?: number } = {}): Promise<Member[]> {
  const members: Member[] = [];
  const { leaseMs = 1200, ...rest } = config;
  for (let i = 0; i < count; i++) members.push(await startMember(store, leaseMs, rest));
  await settled(members);
  return members;
}

/** One member; a `token` in `config` guards its server too (members call each other with it). */
export async function startMember(store: string, leaseMs: number, config: OaasConfig = {}): Promise<Member> {
  const holder: { runtime?: OaasRuntime } = {};
  const server = await serve({ port: 0, runtime: () => holder.runtime!, token: config.token });
  const runtime = new OaasRuntime(resolveConfig({ store, cluster: { url: server.url, leaseMs }, autoCommitIntervalMs: 50, logLevel: 'silent', ...config }, {}));
  holder.runtime = runtime;
  try {
    await runtime.ready();
  } catch (error) {
    await server.close();
    throw error;
  }
  return { runtime, server };
}

/**
 * Waits (bounded) until the members see each other and own every slot
 * between them, and their shares have stayed the same for `steadyMs` (a
 * few heartbeat rounds: the fair share is reached).
 */
export async function settled(members: readonly Member[], timeoutMs = 15_000, steadyMs = 1000): Promise<void> {
  const started = Date.now();
  let last = '';
  let since = Date.now();
  for (;;) {
    const stats = members.map((m) => m.runtime.getStats().cluster!);
    const total = stats.reduce((n, s) => n + s.ownedSlots, 0);
    const shares = stats.map((s) => s.ownedSlots).join(',');
    if (shares !== last) {
      last = shares;
      since = Date.now();
    }
    if (total === 256 && stats.every((s) => s.members === members.length && s.ownedSlots > 0) && Date.now() - since >= steadyMs) return;
    if (Date.now() - started > timeoutMs) throw new Error(`the members did not share the slots in time: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An object id (`prefix` + n) whose slot `owner` owns. */
export function idOwnedBy(owner: Member, clsId: string, prefix = 'o'): string {
  for (let i = 0; i < 10_000; i++) {
    const key: ObjectKey = { clsId, partitionId: 0, objectId: `${prefix}${i}` };
    if (owner.runtime.cluster!.ownsKey(key)) return key.objectId;
  }
  throw new Error('no id found in the slots of that member');
}

/** Shuts every member down and closes its server; the shutdowns must succeed. */
export async function stopMembers(members: Member[]): Promise<void> {
  const outcomes = await Promise.allSettled(members.splice(0).map(async (m) => {
    try {
      await m.runtime.shutdown({ timeoutMs: 5000 });
    } finally {
      await m.server.close({ timeoutMs: 1000 });
    }
  }));
  const failed = outcomes.filter((o) => o.status === 'rejected');
  expect(failed, 'every member shut down cleanly').toEqual([]);
}
