/**
 * The membership contract: which processes are in the cluster and which
 * slots each one owns, kept in the shared store so that no new server is
 * needed. One implementation per shared store (`stores/postgres/membership.ts`,
 * `stores/redis/membership.ts`), both run by one contract suite.
 *
 * The rules every implementation keeps:
 * - **Incarnations.** `join` registers a member id and returns its
 *   incarnation, one more than the id's previous one. Only the latest
 *   incarnation of an id is current; a rejoin ends the previous one, whose
 *   slots become free at once (a restarted process proves its predecessor gone).
 *   An incarnation is over after `leave` too.
 * - **One lease per member.** A member's lease runs `leaseMs` from its last
 *   `join`, `heartbeat` or `acquire`, by the store's clock, never a process's.
 *   Its slots are owned under that lease: while it runs nobody else can take
 *   them; once it lapses they may be taken, and until someone does, the next
 *   heartbeat renews the lease and keeps them.
 * - **Epochs.** Every slot has an epoch, the fencing token: each time a slot
 *   passes to an owner it grows by one, and it never goes back (release keeps
 *   it). A commit fenced with (owner, slot, epoch) is refused by the store once
 *   the slot has passed on, so a member that lost a slot cannot write in it.
 * - Every operation is atomic in the store: two members never both get a slot.
 */
import { describeValue as describe } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';

/** How a member is reached: its id and its base URL (where its `serve()` listens). */
export interface MemberAddress {
  /** Unique per process (several processes sharing an id keep ending each other's incarnations). */
  readonly id: string;
  /** `http://` or `https://` base URL. */
  readonly url: string;
}

/** A live member, as {@link Membership.members} lists it. */
export interface Member extends MemberAddress {
  readonly incarnation: number;
  /** When its lease lapses, in milliseconds since 1970 by the store's clock. */
  readonly expiresAt: number;
}

/** One slot a member owns. */
export interface SlotLease {
  readonly slot: number;
  /** The fencing token to put in commits of this slot's objects. */
  readonly epoch: number;
  /** When the owner's lease lapses, in milliseconds since 1970 by the store's clock. */
  readonly expiresAt: number;
}

/** The owner of one slot, as {@link Membership.owners} shows it. */
export interface SlotOwner {
  readonly owner: string;
  readonly url: string;
  readonly incarnation: number;
  readonly epoch: number;
  /** When the owner's lease lapses, in milliseconds since 1970 by the store's clock. */
  readonly expiresAt: number;
}

/** The contract each shared store implements; see the module comment for the rules. */
export interface Membership {
  /** The store it lives in, e.g. `postgres`. */
  readonly name: string;
  /** Connects and creates the tables or keys if needed. Idempotent; other calls open on first use. */
  open(): Promise<void>;
  /** Registers `member` with a lease of `leaseMs` and returns its new incarnation (1 for a new id). */
  join(member: MemberAddress, leaseMs: number): Promise<number>;
  /**
   * Renews the member's lease for `leaseMs` and returns the slots it still
   * owns (a slot taken by another member while the lease had lapsed is gone),
   * sorted by slot; `undefined` when this incarnation is no longer current
   * (it left, or the id joined again): the process must join again.
   */
  heartbeat(memberId: string, incarnation: number, leaseMs: number): Promise<readonly SlotLease[] | undefined>;
  /** The members whose lease has not lapsed, sorted by id. */
  members(): Promise<readonly Member[]>;
  /**
   * Renews the member's lease like `heartbeat`, then takes those of `slots`
   * that are free (never owned, released, or their owner's lease lapsed or
   * its incarnation ended), each taking bumping the slot's epoch. Returns every
   * one of `slots` the member owns afterwards (slots it already owned keep
   * their epoch), sorted; `undefined` when this incarnation is not current.
   */
  acquire(memberId: string, incarnation: number, slots: readonly number[], leaseMs: number): Promise<readonly SlotLease[] | undefined>;
  /** Gives up those of `slots` this incarnation owns, for a handover; returns them, sorted. Epochs are kept. */
  release(memberId: string, incarnation: number, slots: readonly number[]): Promise<readonly number[]>;
  /** Ends this incarnation and frees all its slots. Idempotent. */
  leave(memberId: string, incarnation: number): Promise<void>;
  /** Every slot with a live owner. Slots absent from the map are free to take. */
  owners(): Promise<ReadonlyMap<number, SlotOwner>>;
  /** Releases connections. Idempotent; later calls reject with a non-transient `StoreError`. */
  close(): Promise<void>;
}

/** Bounds of `leaseMs`: a lease beyond a day is a mistake, not a setting. */
export const LEASE_MS = { min: 1, max: 86_400_000 } as const;

/** Member ids are visible ASCII without spaces (a URL or a host name fits), so they print and key every backend alike. */
const MEMBER_ID = /^[\x21-\x7e]{1,256}$/;

/** True for a valid member id. */
export function isMemberId(id: unknown): id is string {
  return typeof id === 'string' && MEMBER_ID.test(id);
}

/** Checks a member id. */
export function checkMemberId(id: unknown, argument = 'memberId'): asserts id is string {
  if (!isMemberId(id)) {
    throw new InvalidArgumentError(argument, `must be 1 to 256 visible ASCII characters without spaces, got ${describe(id)}`);
  }
}

/** Checks the address `join` takes. */
export function checkMember(member: unknown): asserts member is MemberAddress {
  if (typeof member !== 'object' || member === null) throw new InvalidArgumentError('member', `must be an object { id, url }, got ${describe(member)}`);
  const { id, url } = member as Record<string, unknown>;
  checkMemberId(id, 'member.id');
  let parsed: URL | undefined;
  try {
    // Control characters would be dropped or escaped by the parser, so the URL stored would not be the one given.
    parsed = typeof url === 'string' && url.length <= 2048 && !hasControlCharacter(url) ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new InvalidArgumentError('member.url', `must be an http:// or https:// URL of at most 2048 characters, got ${describe(url)}`);
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Checks an incarnation number: a positive safe integer. */
export function checkIncarnation(incarnation: unknown): asserts incarnation is number {
  if (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 1) {
    throw new InvalidArgumentError('incarnation', `must be a positive integer, got ${describe(incarnation)}`);
  }
}

/** Checks a lease length in milliseconds. */
export function checkLeaseMs(leaseMs: unknown): asserts leaseMs is number {
  if (typeof leaseMs !== 'number' || !Number.isSafeInteger(leaseMs) || leaseMs < LEASE_MS.min || leaseMs > LEASE_MS.max) {
    throw new InvalidArgumentError('leaseMs', `must be an integer from ${LEASE_MS.min} to ${LEASE_MS.max}, got ${describe(leaseMs)}`);
  }
}
