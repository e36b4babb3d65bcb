/**
 * Cluster membership in Redis: two hashes under the store's key prefix
 * (see `cluster-scripts.ts` for the layout and the scripts).
 */
import type { Redis } from 'ioredis';
import { checkIncarnation, checkLeaseMs, checkMember, checkMemberId, type Member, type MemberAddress, type Membership, type SlotLease, type SlotOwner } from '../../cluster/membership.js';
import { checkSlots } from '../../cluster/slots.js';
import { StoreError } from '../../errors.js';
import { CLUSTER_SCHEMA_VERSION, CLUSTER_SCRIPTS } from './cluster-scripts.js';
import { checkConnectionOptions, createClient, execAll, quit, waitUntilReady } from './connection.js';
import { translateError, unexpectedReply } from './errors.js';
import type { RedisClient } from './redis-client.js';
import type { KeyLayout} from './scripts.js';
import { type LuaScript } from './scripts.js';

/** Options of {@link RedisMembership}. */
export interface RedisMembershipOptions {
  /** The store's `redis://` URL. Ignored when `client` is given. */
  readonly url: string;
  /** The store's key prefix: membership keys live beside its objects. @default 'oaas' */
  readonly keyPrefix?: string | undefined;
  /** How long the first call waits for a usable connection. @default 5000 */
  readonly connectTimeoutMs?: number | undefined;
  /** How long one script may take before it fails with a transient `StoreError`. @default 5000 */
  readonly commandTimeoutMs?: number | undefined;
  /** A client to use instead of one built from `url`; the caller owns it. */
  readonly client?: RedisClient | undefined;
}

/**
 * A {@link Membership} in the store's Redis database, each operation one
 * Lua script timed by the server's clock. Its own connection by default, so
 * heartbeats do not queue behind large batches on the store's.
 *
 * @example
 * const membership = new RedisMembership({ url: 'redis://localhost:6379' });
 * const incarnation = await membership.join({ id: 'web-1', url: 'http://10.0.0.5:8080' }, 10_000);
 */
export class RedisMembership implements Membership {
  readonly name = 'redis';
  private readonly url: string;
  private readonly layout: KeyLayout;
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly injected: Redis | undefined;
  private opening: Promise<Redis> | undefined;
  private closing: Promise<void> | undefined;
  private lastError: Error | undefined;
  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  constructor(options: RedisMembershipOptions) {
    const settings = checkConnectionOptions(options, 5000);
    this.url = settings.url;
    this.layout = settings.layout;
    this.connectTimeoutMs = settings.connectTimeoutMs;
    this.commandTimeoutMs = settings.commandTimeoutMs;
    this.injected = settings.client;
  }

  open(): Promise<void> {
    return this.run('open', async () => {
      await this.connection();
    });
  }

  join(member: MemberAddress, leaseMs: number): Promise<number> {
    return this.run('join', async () => {
      checkMember(member);
      checkLeaseMs(leaseMs);
      const reply = await this.call(CLUSTER_SCRIPTS.join, [member.id, member.url, String(leaseMs)]);
      if (typeof reply !== 'number') throw unexpected('join', reply);
      return reply;
    });
  }

  heartbeat(memberId: string, incarnation: number, leaseMs: number): Promise<readonly SlotLease[] | undefined> {
    return this.run('heartbeat', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkLeaseMs(leaseMs);
      return leases('heartbeat', await this.call(CLUSTER_SCRIPTS.heartbeat, [memberId, String(incarnation), String(leaseMs)]));
    });
  }

  members(): Promise<readonly Member[]> {
    return this.run('members', async () => {
      const reply = await this.call(CLUSTER_SCRIPTS.members, []);
      return rows('members', reply, 4).map(([id, url, incarnation, expiresAt]) => ({
        id: String(id), url: String(url), incarnation: Number(incarnation), expiresAt: Number(expiresAt),
      }));
    });
  }

  acquire(memberId: string, incarnation: number, slots: readonly number[], leaseMs: number): Promise<readonly SlotLease[] | undefined> {
    return this.run('acquire', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkSlots(slots, 'slots');
      checkLeaseMs(leaseMs);
      return leases('acquire', await this.call(CLUSTER_SCRIPTS.acquire, [memberId, String(incarnation), String(leaseMs), ...slots.map(String)]));
    });
  }

  release(memberId: string, incarnation: number, slots: readonly number[]): Promise<readonly number[]> {
    return this.run('release', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      checkSlots(slots, 'slots');
      if (slots.length === 0) return [];
      const reply = await this.call(CLUSTER_SCRIPTS.release, [memberId, String(incarnation), ...slots.map(String)]);
      return rows('release', reply, 1).map(([slot]) => Number(slot));
    });
  }

  leave(memberId: string, incarnation: number): Promise<void> {
    return this.run('leave', async () => {
      checkMemberId(memberId);
      checkIncarnation(incarnation);
      await this.call(CLUSTER_SCRIPTS.leave, [memberId, String(incarnation)]);
    });
  }

  owners(): Promise<ReadonlyMap<number, SlotOwner>> {
    return this.run('owners', async () => {
      const reply = await this.call(CLUSTER_SCRIPTS.owners, []);
      return new Map(rows('owners', reply, 6).map(([slot, owner, url, incarnation, epoch, expiresAt]) => [Number(slot), {
        owner: String(owner), url: String(url), incarnation: Number(incarnation), epoch: Number(epoch), expiresAt: Number(expiresAt),
      }]));
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const client = await this.opening?.catch(() => undefined);
      this.opening = undefined;
      if (client === undefined) return;
      if (client === this.injected) client.off('error', this.onError);
      else await quit(client);
    })();
    return this.closing;
  }

  private async call(script: LuaScript, args: readonly string[]): Promise<unknown> {
    return script.run(await this.connection(), [this.layout.members, this.layout.slots], args);
  }

  private connection(): Promise<Redis> {
    if (this.closing !== undefined) return Promise.reject(new StoreError('redis membership is closed', { transient: false }));
    this.opening ??= this.connect().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  private async connect(): Promise<Redis> {
    const client = this.injected ?? (await createClient(this.url, this.connectTimeoutMs, this.commandTimeoutMs));
    this.lastError = undefined;
    client.on('error', this.onError);
    try {
      await waitUntilReady(client, { url: this.url, timeoutMs: this.connectTimeoutMs, lastError: () => this.lastError });
      await checkClusterLayout(client, this.layout.meta);
      return client;
    } catch (error) {
      if (this.injected === undefined) client.disconnect();
      else client.off('error', this.onError);
      throw error;
    }
  }

  private async run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    try {
      if (this.closing !== undefined) throw new StoreError(`redis membership ${operation} failed: membership is closed`, { transient: false });
      return await body();
    } catch (error) {
      throw translateError(`membership ${operation}`, error);
    }
  }
}

/** Records the layout version on first use; keys written by another release are refused, not misread. */
async function checkClusterLayout(client: Redis, metaKey: string): Promise<void> {
  const [, found] = await execAll(client.multi().hsetnx(metaKey, 'cluster_schema_version', CLUSTER_SCHEMA_VERSION).hget(metaKey, 'cluster_schema_version'), 2);
  if (found === CLUSTER_SCHEMA_VERSION) return;
  throw new StoreError(
    `redis open failed: ${metaKey} has cluster schema version ${String(found)}; this release of oaas-sdk supports cluster schema version ${CLUSTER_SCHEMA_VERSION}`,
    { transient: false },
  );
}

function unexpected(operation: string, reply: unknown): StoreError {
  return unexpectedReply(`${operation} script reply: ${JSON.stringify(reply)}`);
}

/** A flat array reply cut into rows of `width`. */
function rows(operation: string, reply: unknown, width: number): unknown[][] {
  if (!Array.isArray(reply) || reply.length % width !== 0) throw unexpected(operation, reply);
  const out: unknown[][] = [];
  for (let i = 0; i < reply.length; i += width) out.push(reply.slice(i, i + width));
  return out;
}

/** The reply of heartbeat and acquire: nil when the incarnation is not current, else the lease's end and (slot, epoch) pairs. */
function leases(operation: string, reply: unknown): SlotLease[] | undefined {
  if (reply === null) return undefined;
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') throw unexpected(operation, reply);
  const expiresAt = reply[0];
  return rows(operation, reply.slice(1), 2).map(([slot, epoch]) => ({ slot: Number(slot), epoch: Number(epoch), expiresAt }));
}
