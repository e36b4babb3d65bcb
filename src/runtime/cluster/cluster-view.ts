/**
 * What one member knows of the others: who is alive, who owns which slot,
 * and which member each slot prefers. Read from the membership every round
 * (and after a failed call); it may be a round old, which routing allows
 * for (a member refuses calls for slots it does not own, and the sender
 * reads the view again).
 */
import { rendezvousScore } from '../../cluster/slots.js';
import type { Member, MemberAddress, Membership, SlotOwner } from '../../cluster/membership.js';

export class ClusterView {
  private live: readonly Member[] = [];
  private slotOwners: ReadonlyMap<number, SlotOwner> = new Map();
  private refreshing: Promise<void> | undefined;
  /** The last owner each slot was seen with, kept after it vanishes from the view, to tell a takeover from a handover. */
  private readonly lastOwner = new Map<number, string>();
  /** When each member's lease was last seen to end, by the store's clock, kept after it vanishes from the view. */
  private readonly lastExpiry = new Map<string, number>();
  /** The store's clock minus this process's (Date.now), from this member's own lease. */
  private storeSkewMs = 0;

  constructor(
    private readonly self: string,
    private readonly leaseMs: number,
  ) {}

  /** Live members, this one included, as the last read saw them. */
  get members(): readonly Member[] {
    return this.live;
  }

  /** Reads who is alive and who owns what; concurrent callers share one read. `renewedAt`: Date.now when this member last renewed its lease. */
  refresh(membership: Membership, renewedAt: number): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const [members, owners] = await Promise.all([membership.members(), membership.owners()]);
        this.live = members;
        this.slotOwners = owners;
        for (const member of members) {
          this.lastExpiry.set(member.id, member.expiresAt);
          if (member.id === this.self) this.storeSkewMs = member.expiresAt - this.leaseMs - renewedAt;
        }
        for (const [slot, owner] of owners) {
          this.lastOwner.set(slot, owner.owner);
          this.lastExpiry.set(owner.owner, owner.expiresAt);
        }
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /** True when the view shows an owner for the slot (this member included). */
  hasOwner(slot: number): boolean {
    return this.slotOwners.has(slot);
  }

  /** The slot's owner when it is another member. */
  ownerOther(slot: number): MemberAddress | undefined {
    const owner = this.slotOwners.get(slot);
    if (owner === undefined || owner.owner === this.self) return undefined;
    return { id: owner.owner, url: owner.url };
  }

  /** True when the member is alive in the view, at that URL. */
  isLive(member: MemberAddress): boolean {
    return this.live.some((m) => m.id === member.id && m.url === member.url);
  }

  /** The live member the slot prefers (the highest rendezvous score), leaving out `except`. */
  preferred(slot: number, except?: string): Member | undefined {
    let best: Member | undefined;
    let bestScore = -1;
    for (const member of this.live) {
      if (member.id === except) continue;
      const score = rendezvousScore(member.id, slot);
      if (score > bestScore || (score === bestScore && best !== undefined && member.id < best.id)) {
        best = member;
        bestScore = score;
      }
    }
    return best;
  }

  /** This member released `slots`: the view stops showing it as their owner. */
  released(slots: readonly number[]): void {
    const owners = new Map(this.slotOwners);
    for (const slot of slots) owners.delete(slot);
    this.slotOwners = owners;
  }

  /**
   * This member took `slot`. Returns the member it took it from when that
   * member's lease had run out by the store's clock (a takeover), or
   * `undefined` (the slot was free, or released to it: a handover).
   */
  taken(slot: number): string | undefined {
    const previous = this.slotOwners.get(slot)?.owner ?? this.lastOwner.get(slot);
    this.lastOwner.set(slot, this.self);
    if (previous === undefined || previous === this.self) return undefined;
    const expiry = this.lastExpiry.get(previous);
    return expiry !== undefined && expiry <= Date.now() + this.storeSkewMs ? previous : undefined;
  }
}
