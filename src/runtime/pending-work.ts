import type { ObjectCore } from '../object/object-core.js';
import type { ChainLink } from '../session/call-chain.js';
import type { ManagedSession } from '../session/session.js';
import type { Clock } from '../clock.js';

/**
 * What waits for a commit: the sessions holding pending changes, how many
 * objects they hold, since when, and the back-pressure gate that holds new
 * calls while too many objects wait.
 */
export class PendingWork {
  private readonly pendingSessions = new Set<ManagedSession>();
  private objects = 0;
  private admissionWaiters: (() => void)[] = [];

  constructor(
    private readonly maxPendingObjects: number,
    /** What pending ages are measured on. */
    private readonly clock: Clock,
  ) {}

  /** Sessions with pending changes, as they stand now. */
  sessions(): ManagedSession[] {
    return [...this.pendingSessions];
  }

  get sessionCount(): number {
    return this.pendingSessions.size;
  }

  /** Objects waiting for a commit. */
  get objectCount(): number {
    return this.objects;
  }

  /** An object started (`true`) or stopped (`false`) waiting for a commit. */
  objectPending(core: ObjectCore, pending: boolean): void {
    if (pending) {
      this.objects += 1;
      core.pendingSince = this.clock.now();
      return;
    }
    this.objects -= 1;
    core.pendingSince = undefined;
    if (this.objects < this.maxPendingObjects && this.admissionWaiters.length > 0) {
      for (const wake of this.admissionWaiters.splice(0)) wake();
    }
  }

  /** A session gained its first (`true`) or lost its last (`false`) pending object. */
  sessionPending(session: ManagedSession, hasPending: boolean): void {
    if (hasPending) this.pendingSessions.add(session);
    else this.pendingSessions.delete(session);
  }

  /**
   * Back-pressure: a new top-level call waits while more than
   * `maxPendingObjects` objects wait for a commit (the store is slow or
   * down), instead of letting memory grow without end. Calls made by running
   * work pass, so a turn never waits on itself.
   */
  admit(chain: ChainLink | undefined): Promise<void> | undefined {
    if (chain !== undefined || this.objects < this.maxPendingObjects) return undefined;
    return new Promise<void>((resolve) => this.admissionWaiters.push(resolve));
  }

  /** Age of the oldest change waiting for a commit, in ms (0 when nothing waits). Scans pending objects only. */
  oldestAgeMs(): number {
    let oldest = Infinity;
    for (const session of this.pendingSessions) {
      for (const core of session.pending) if (core.pendingSince !== undefined && core.pendingSince < oldest) oldest = core.pendingSince;
    }
    return oldest === Infinity ? 0 : this.clock.now() - oldest;
  }
}
