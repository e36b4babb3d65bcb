/**
 * This process as a cluster member: it joins the membership, keeps its lease
 * alive, owns a fair share of the slots, and answers the one question every
 * call asks in cluster mode: "is this object mine, and if not, whose?".
 *
 * - **Fair share.** Each slot has a preferred member, by rendezvous hashing
 *   over the live members: every member computes the same answer alone, and
 *   a member joining or leaving moves only the slots it gains or loses. A
 *   round (every third of the lease) renews the lease, takes the free slots
 *   preferred to this member and hands over those preferred to another.
 * - **Handover.** Slots pass on only after their objects are idle and
 *   flushed: new calls on them wait, running turns finish, pending changes
 *   are committed under the fence, the instances become forwarding ones,
 *   and then the slots are released.
 * - **Loss.** A slot found gone at a heartbeat, or refused by the store's
 *   fence, takes its live objects with it: what they had pending is
 *   reported as discarded, never written.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { slotOf, SLOT_COUNT } from '../../cluster/slots.js';
import type { MemberAddress, Membership, SlotLease } from '../../cluster/membership.js';
import type { ResolvedClusterConfig } from '../../config.js';
import { FencedError, LockTimeoutError, NotOwnerError, RemoteError, ShutdownError, formatIdentity, type ObjectIdentity } from '../../errors.js';
import type { ObjectKey } from '../../identity.js';
import type { ObjectCore } from '../../object/object-core.js';
import type { ClusterStats } from '../../observability/telemetry.js';
import type { CommitFence } from '../../stores/store.js';
import { ClusterView } from './cluster-view.js';
import { PeerUnreachable, type PeerClient } from './peer-client.js';

/** Where a call on an object goes. */
export type Route = { readonly kind: 'local' } | { readonly kind: 'remote'; readonly owner: MemberAddress };

const LOCAL: Route = { kind: 'local' };

/** What the node needs from the rest of the runtime. */
export interface ClusterNodeParts {
  readonly config: ResolvedClusterConfig;
  /** Opens the membership (in the runtime's store, once that is open). */
  openMembership(): Promise<Membership>;
  readonly peers: PeerClient;
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  /** The live objects of this process in `slots`. */
  liveIn(slots: ReadonlySet<number>): ObjectCore[];
  /** Commits the pending changes of `cores`, whose turns `holder` holds (fenced like every commit). */
  flush(cores: readonly ObjectCore[], holder: object): Promise<void>;
  /**
   * Turns instances into forwarding ones. What they had pending is dropped,
   * and their sessions are told with `cause` (they report it, and their next
   * explicit commit rejects); returns the refs whose changes were dropped.
   */
  evict(cores: readonly ObjectCore[], cause?: FencedError): ObjectIdentity[];
}

/** How long a slot moved here by a scope stays, whatever the fair share says, so that the next scope finds it. */
const PIN_FACTOR = 1;
/** Rounds of routing before a call gives up when ownership keeps moving under it. */
const ROUTE_ATTEMPTS = 5;

export class ClusterNode {
  private incarnation = 0;
  /** Slot -> epoch, for the slots this member owns. */
  private readonly owned = new Map<number, number>();
  /** Counts the changes to `owned`; `changedAt` keeps, per slot, the count at its last change. */
  private ownershipChanges = 0;
  private readonly changedAt = new Map<number, number>();
  private readonly view: ClusterView;
  /** Slots being handed over, with the handover's promise: calls on them wait for it. */
  private readonly moving = new Map<number, Promise<unknown>>();
  /** Slot -> until when (performance.now) a scope's move keeps it here. */
  private readonly pinned = new Map<number, number>();
  private leaving = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private readonly started: Promise<void>;
  private readonly counts = { forwardedCalls: 0, handovers: 0, takeovers: 0, fencedCommits: 0 };
  private membershipOpened: Membership | undefined;
  /** Date.now when the last renewal of this member's lease was sent. */
  private renewedAt = Date.now();
  /** Until when (performance.now) the lease surely holds: `leaseMs` after the last renewal was sent. */
  private leaseValidUntil = Infinity;

  constructor(private readonly parts: ClusterNodeParts) {
    this.view = new ClusterView(parts.config.id, parts.config.leaseMs);
    this.started = this.start();
    this.started.catch(() => undefined);
  }

  /** The client for the other members. */
  get peers(): PeerClient {
    return this.parts.peers;
  }

  get self(): MemberAddress {
    return { id: this.parts.config.id, url: this.parts.config.url };
  }

  /** Resolves once this member has joined and taken its first share; rejects when it could not join. */
  ready(): Promise<void> {
    return this.started;
  }

  private get membership(): Membership {
    return this.membershipOpened!;
  }

  private async start(): Promise<void> {
    const { config } = this.parts;
    const membership = (this.membershipOpened = await this.parts.openMembership());
    await membership.open();
    const sent = performance.now();
    const sentAt = Date.now();
    this.incarnation = await membership.join(this.self, config.leaseMs);
    this.renewedAt = sentAt;
    this.leaseValidUntil = sent + config.leaseMs;
    this.parts.logger.info({ member: config.id, url: config.url, incarnation: this.incarnation }, 'joined the cluster');
    await this.refreshView();
    await this.rebalance();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.renew().finally(() => {
        this.schedule();
      });
    }, Math.max(50, Math.floor(this.parts.config.leaseMs / 3)));
    this.timer.unref();
  }

  /** Runs a heartbeat round now (or joins the one running). */
  renew(): Promise<void> {
    this.round ??= this.heartbeat().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /**
   * True when this member's lease may have lapsed by now: no heartbeat was
   * answered for a whole lease (the process was paused, or the store is
   * unreachable). Its slots may be another's: calls wait for a heartbeat.
   */
  get leaseLapsed(): boolean {
    return performance.now() > this.leaseValidUntil;
  }

  /** One round: renew the lease (learning which slots are still ours), refresh the view, move slots towards the fair share. */
  private async heartbeat(): Promise<void> {
    const { config, logger } = this.parts;
    const membership = this.membership;
    try {
      const sent = performance.now();
      const sentAt = Date.now();
      const asOf = this.ownershipChanges;
      const leases = await membership.heartbeat(config.id, this.incarnation, config.leaseMs);
      this.renewedAt = sentAt;
      this.leaseValidUntil = sent + config.leaseMs;
      if (leases === undefined) {
        this.lose([...this.owned.keys()], 'this member was ended (another process joined with its id, or its lease lapsed and it left)');
        this.incarnation = await membership.join(this.self, config.leaseMs);
        logger.warn({ member: config.id, incarnation: this.incarnation }, 'joined the cluster again');
      } else {
        this.keep(leases, asOf);
      }
      await this.refreshView();
      await this.rebalance();
    } catch (error) {
      if (!this.stopped) logger.warn({ err: error }, 'cluster heartbeat failed; retrying at the next round');
    }
  }

  /**
   * Applies a heartbeat's answer: slots missing from it were taken over while this member was silent.
   * `asOf`: {@link ownershipChanges} when it was sent. A slot taken or released since (a call took a
   * free slot, a handover ended) is left as it is: the answer may have been read before that change
   * was, and would otherwise "lose" a slot just taken, or bring back one just given away.
   */
  private keep(leases: readonly SlotLease[], asOf: number): void {
    const unchanged = (slot: number): boolean => (this.changedAt.get(slot) ?? 0) <= asOf;
    const still = new Set(leases.map((l) => l.slot));
    const lost = [...this.owned.keys()].filter((slot) => !still.has(slot) && unchanged(slot));
    if (lost.length > 0) this.lose(lost, 'taken over by another process while this one was silent past its lease');
    for (const lease of leases) if (unchanged(lease.slot) && this.owned.get(lease.slot) !== lease.epoch) this.own(lease.slot, lease.epoch);
  }

  private own(slot: number, epoch: number): void {
    this.owned.set(slot, epoch);
    this.changedAt.set(slot, ++this.ownershipChanges);
  }

  private disown(slot: number): void {
    this.owned.delete(slot);
    this.changedAt.set(slot, ++this.ownershipChanges);
  }

  private lose(slots: readonly number[], why: string): void {
    if (slots.length === 0) return;
    const fence = new FencedError(
      this.parts.config.id,
      slots.map((slot) => ({ slot, epoch: this.owned.get(slot) ?? 0 })),
    );
    for (const slot of slots) this.disown(slot);
    const discarded = this.parts.evict(this.parts.liveIn(new Set(slots)), fence);
    this.parts.logger.warn({ slots: slots.length, discarded: discarded.map(formatIdentity) }, `cluster slots lost: ${why}`);
  }

  private refreshView(): Promise<void> {
    return this.view.refresh(this.membership, this.renewedAt);
  }

  private async rebalance(): Promise<void> {
    if (this.leaving || this.stopped) return;
    const me = this.parts.config.id;
    const now = performance.now();
    const take: number[] = [];
    const give: number[] = [];
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const preferred = this.view.preferred(slot)?.id ?? me;
      if (this.owned.has(slot)) {
        if (preferred !== me && (this.pinned.get(slot) ?? 0) < now && !this.moving.has(slot)) give.push(slot);
      } else if (preferred === me && !this.view.hasOwner(slot)) {
        take.push(slot);
      }
    }
    if (take.length > 0) await this.acquire(take);
    if (give.length > 0) {
      // Not awaited: a handover may wait for busy objects up to lockTimeoutMs, and the next heartbeat must not wait with it.
      this.handOver(give).catch((error: unknown) => {
        this.parts.logger.info({ err: error, slots: give.length }, 'handing slots over to their preferred member failed; trying again at the next round');
      });
    }
  }

  /** Takes those of `slots` that are free; counts and logs takeovers from members whose lease lapsed. */
  private async acquire(slots: readonly number[]): Promise<void> {
    const { config, logger } = this.parts;
    const membership = this.membership;
    const sent = performance.now();
    const sentAt = Date.now();
    const leases = await membership.acquire(config.id, this.incarnation, slots, config.leaseMs);
    if (leases === undefined) return;
    this.renewedAt = sentAt;
    this.leaseValidUntil = sent + config.leaseMs;
    const wanted = new Set(slots);
    for (const lease of leases) {
      if (!wanted.has(lease.slot) || this.owned.has(lease.slot)) continue;
      this.own(lease.slot, lease.epoch);
      // Taken from a member whose lease had run out (not released by it): a takeover.
      const from = this.view.taken(lease.slot);
      if (from !== undefined) {
        this.counts.takeovers += 1;
        logger.warn({ slot: lease.slot, epoch: lease.epoch, from }, 'took over a cluster slot whose owner fell silent past its lease');
      }
    }
  }

  /**
   * Hands `slots` over: new calls on their objects wait, running turns
   * finish (up to `lockTimeoutMs`), pending changes are committed, the live
   * instances become forwarding ones, and the slots are released. Resolves
   * with the slots released; rejects (keeping the slots) when the objects
   * could not be made idle or flushed.
   */
  handOver(slots: readonly number[]): Promise<readonly number[]> {
    const mine = slots.filter((slot) => this.owned.has(slot) && !this.moving.has(slot));
    if (mine.length === 0) return Promise.resolve([]);
    const work = this.release(mine);
    const settled = work.catch(() => undefined);
    for (const slot of mine) this.moving.set(slot, settled);
    return work.finally(() => {
      for (const slot of mine) this.moving.delete(slot);
    });
  }

  private async release(slots: readonly number[]): Promise<readonly number[]> {
    const { config, lockTimeoutMs } = this.parts;
    const membership = this.membership;
    const set = new Set(slots);
    const cores = this.parts.liveIn(set).sort((a, b) => (a.keyString < b.keyString ? -1 : a.keyString > b.keyString ? 1 : 0));
    const holder = {};
    const taken: ObjectCore[] = [];
    try {
      for (const core of cores) {
        await core.ensureLock().acquire(holder, lockTimeoutMs, () => new LockTimeoutError(core.key, lockTimeoutMs));
        taken.push(core);
      }
      const pending = cores.filter((core) => core.hasPendingChanges);
      if (pending.length > 0) await this.parts.flush(pending, holder);
      // From here on the objects are idle, flushed and held: they are the new owner's.
      this.parts.evict(cores);
    } finally {
      for (const core of taken) core.releaseLock(holder);
    }
    const released = await membership.release(config.id, this.incarnation, slots);
    for (const slot of released) {
      this.disown(slot);
      this.pinned.delete(slot);
    }
    this.view.released(released);
    // A load that was reading when the handover began may have made an instance since.
    this.parts.evict(this.parts.liveIn(set));
    this.counts.handovers += released.length;
    return released;
  }

  /** True when this member owns the slot of `key` now. */
  ownsKey(key: ObjectKey): boolean {
    return this.owned.has(slotOf(key));
  }

  /** True when this member owns the object's slot now. */
  owns(core: ObjectCore): boolean {
    core.slot ??= slotOf(core.key);
    return this.owned.has(core.slot);
  }

  /** Owns it, and is not handing its slot over: a live instance made now may take calls. */
  keeps(core: ObjectCore): boolean {
    return this.owns(core) && !this.moving.has(core.slot!);
  }

  /** Where a call on `key` goes. `fromPeer`: the call was forwarded here, so it is never forwarded again. */
  async route(key: ObjectKey, fromPeer: boolean): Promise<Route> {
    await this.started;
    // After a pause longer than the lease the slot may be another's: learn it first.
    if (this.leaseLapsed) await this.renew();
    const slot = slotOf(key);
    for (let attempt = 0; attempt < ROUTE_ATTEMPTS; attempt++) {
      const moving = this.moving.get(slot);
      if (moving !== undefined) {
        await moving;
        continue;
      }
      if (this.leaving) {
        const other = this.view.ownerOther(slot) ?? this.view.preferred(slot, this.parts.config.id);
        if (other !== undefined) return { kind: 'remote', owner: other };
        throw new ShutdownError();
      }
      if (this.owned.has(slot)) return LOCAL;
      const owner = this.view.ownerOther(slot);
      if (owner !== undefined) return { kind: 'remote', owner };
      const preferred = this.view.preferred(slot);
      if (preferred !== undefined && preferred.id !== this.parts.config.id) {
        // A free slot goes to its preferred member. A call sent here by a member whose view is older (it still
        // saw this member as the owner) is refused, and that member sends it there too.
        if (fromPeer) throw new NotOwnerError(key, preferred.url);
        return { kind: 'remote', owner: preferred };
      }
      // Free, and this member is where it should go: take it.
      await this.acquire([slot]);
      if (this.owned.has(slot)) return LOCAL;
      await this.refreshView();
    }
    throw new NotOwnerError(key, this.view.ownerOther(slot)?.url);
  }

  /** The owner to name in errors about `key` (another member), if the view knows one. */
  ownerOf(key: ObjectKey): MemberAddress | undefined {
    return this.view.ownerOther(slotOf(key));
  }

  /**
   * Runs a call where the object lives: `local()` here, else `remote(owner)`
   * on the owner. A remote call that could not be delivered, or that the
   * receiver refused because it does not own the object (any more) or is
   * shutting down, nothing ran: it is routed again after a short wait, until
   * the owner answers or about two leases have passed (enough for a dead
   * owner's slots to be taken over).
   */
  async routed<T>(key: ObjectKey, fromPeer: boolean, local: () => Promise<T>, remote: (owner: MemberAddress) => Promise<T | PeerUnreachable>): Promise<T> {
    const deadline = performance.now() + 2 * this.parts.config.leaseMs + this.parts.lockTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const route = await this.route(key, fromPeer);
      if (route.kind === 'local') {
        try {
          return await local();
        } catch (error) {
          // The object was handed over between the routing and the run (nothing ran): route it again.
          if (!(error instanceof NotOwnerError) || fromPeer || performance.now() > deadline) throw error;
          await this.refreshView().catch(() => undefined);
          continue;
        }
      }
      if (fromPeer) throw new NotOwnerError(key, route.owner.url);
      let outcome: T | PeerUnreachable;
      try {
        outcome = await remote(route.owner);
      } catch (error) {
        if (performance.now() > deadline || !(await this.safeToResend(error, route.owner))) throw error;
        outcome = new PeerUnreachable(route.owner, error);
      }
      if (!(outcome instanceof PeerUnreachable)) {
        this.counts.forwardedCalls += 1;
        return outcome;
      }
      if (performance.now() > deadline) {
        throw new NotOwnerError(key, route.owner.url, { cause: outcome.cause });
      }
      await sleep(Math.min(20 * attempt, 250));
      await this.refreshView().catch(() => undefined);
    }
  }

  /**
   * True when a call that failed on `owner` certainly did not run there, so
   * it may be sent again: the owner refused it (not the owner, shutting
   * down), or the connection broke and the owner has left the cluster since
   * (a member leaves only after its requests finished, so a request it
   * never answered never ran). A member that broke the connection and is
   * still a member (killed, say) may have run it: that is not resent.
   */
  private async safeToResend(error: unknown, owner: MemberAddress): Promise<boolean> {
    if (error instanceof NotOwnerError || error instanceof ShutdownError) return true;
    if (!(error instanceof RemoteError)) return false;
    await this.refreshView().catch(() => undefined);
    return !this.view.isLive(owner);
  }

  /**
   * Moves the object's slot to this member (for a scope): asks its owner to
   * hand it over, then takes it. Waits for a silent owner's lease to lapse;
   * gives up after `lockTimeoutMs` with `LockTimeoutError` (a scope's
   * `retries` run it again).
   */
  async pull(key: ObjectKey): Promise<void> {
    const slot = slotOf(key);
    // Checked before any await, so a handover cannot begin between the check and the caller's use.
    if (this.owned.has(slot) && !this.moving.has(slot) && !this.leaseLapsed) return;
    await this.started;
    const { lockTimeoutMs } = this.parts;
    const deadline = performance.now() + lockTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      const moving = this.moving.get(slot);
      if (moving !== undefined) await moving;
      if (this.leaving) throw new ShutdownError();
      if (this.leaseLapsed) await this.renew();
      if (this.owned.has(slot)) return;
      const owner = this.view.ownerOther(slot);
      if (owner !== undefined) {
        // Unreachable or refusing: the owner may be dead (its lease lapses) or busy (the next attempt asks again).
        await this.parts.peers.handover(owner, [slot]).catch(() => undefined);
      }
      await this.acquire([slot]);
      if (this.owned.has(slot)) break;
      if (performance.now() > deadline) throw new LockTimeoutError(key, lockTimeoutMs);
      await sleep(Math.min(10 * attempt, 100));
      await this.refreshView().catch(() => undefined);
    }
    // Moved here for a scope: it stays a while, whatever the fair share says, so the next scope finds it here.
    this.pinned.set(slot, performance.now() + PIN_FACTOR * this.parts.config.leaseMs);
  }

  /** Makes sure this member owns the slots of `cores` before they are committed: takes free ones; `move` pulls owned ones (a scope). */
  async claim(cores: readonly ObjectCore[], move: boolean): Promise<void> {
    for (const core of cores) {
      if (this.owns(core)) continue;
      if (move) await this.pull(core.key);
      else if (this.view.ownerOther(core.slot!) === undefined) await this.acquire([core.slot!]);
    }
  }

  /** The fencing token of a batch writing `cores`; a slot this member does not own refuses the batch here. */
  fence(cores: readonly ObjectCore[]): CommitFence {
    const slots = new Map<number, number>();
    const lost: { slot: number; epoch: number }[] = [];
    for (const core of cores) {
      core.slot ??= slotOf(core.key);
      const epoch = this.owned.get(core.slot);
      if (epoch === undefined) lost.push({ slot: core.slot, epoch: 0 });
      else slots.set(core.slot, epoch);
    }
    if (lost.length > 0) throw new FencedError(this.parts.config.id, lost);
    return { memberId: this.parts.config.id, slots: [...slots].map(([slot, epoch]) => ({ slot, epoch })) };
  }

  /**
   * The error for a holder (a scope, a turn) whose objects moved to another process while it held
   * them: a handover that began while it was loading them, or a lost slot. What it did to them went
   * with them, so it must fail rather than succeed without them; a scope's `retries` run it again.
   */
  movedAway(cores: readonly ObjectCore[]): FencedError {
    const slots = new Set(cores.map((core) => (core.slot ??= slotOf(core.key))));
    return new FencedError(this.parts.config.id, [...slots].map((slot) => ({ slot, epoch: this.owned.get(slot) ?? 0 })));
  }

  /** A commit writing `cores` was fenced: the slots it named passed on, and their objects with them (changes dropped and reported). */
  fenced(error: FencedError, cores: readonly ObjectCore[]): void {
    this.counts.fencedCommits += 1;
    const slots = new Set(error.slots.map((s) => s.slot));
    for (const slot of slots) this.disown(slot);
    const inSlots = new Set([...this.parts.liveIn(slots), ...cores.filter((core) => slots.has((core.slot ??= slotOf(core.key))))]);
    const discarded = this.parts.evict([...inSlots], error);
    this.parts.logger.warn(
      { slots: [...slots], discarded: discarded.map(formatIdentity) },
      'commit fenced: its slots passed to another process while this one was silent; the changes were discarded, never written',
    );
  }

  /** Picks an object id whose slot this member owns, for a creation without an id (`generate` makes candidates). */
  localId(generate: () => string, key: (objectId: string) => ObjectKey): string {
    let id = generate();
    if (this.owned.size === 0) return id;
    for (let i = 0; i < 64 && !this.owned.has(slotOf(key(id))); i++) id = generate();
    return id;
  }

  /** Shutdown began: every new call goes to another member. */
  beginLeaving(): void {
    this.leaving = true;
  }

  /** After the final flush: stop the rounds, release every slot, leave, and close the membership. */
  async leave(): Promise<void> {
    this.leaving = true;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
    try {
      await this.started;
      await this.membership.leave(this.parts.config.id, this.incarnation);
      this.counts.handovers += this.owned.size;
      this.owned.clear();
    } catch (error) {
      this.parts.logger.warn({ err: error }, 'leaving the cluster failed; the other members take over after the lease');
    } finally {
      await this.membershipOpened?.close().catch(() => undefined);
    }
  }

  stats(): ClusterStats {
    let ownedObjects = 0;
    if (this.owned.size > 0) ownedObjects = this.parts.liveIn(new Set(this.owned.keys())).length;
    return {
      memberId: this.parts.config.id,
      url: this.parts.config.url,
      incarnation: this.incarnation,
      members: this.view.members.length,
      ownedSlots: this.owned.size,
      ownedObjects,
      ...this.counts,
    };
  }
}
