import { ShutdownError } from '../errors.js';
import type { ChainLink } from '../session/call-chain.js';
import type { Clock } from '../clock.js';

/** Where a runtime stands: taking work, finishing what runs before it closes, or closed. */
export type RunPhase = 'open' | 'closing' | 'closed';

/**
 * The runtime's run state: its phase, the calls and scopes running now, and
 * the waits for them to finish (what `shutdown()` waits for before it flushes).
 */
export class RunState {
  private phase: RunPhase = 'open';
  private activeTurns = 0;
  private openScopes = 0;
  private idleWaiters: (() => void)[] = [];

  get current(): RunPhase {
    return this.phase;
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** Open scopes, for the gauges. */
  get scopeCount(): number {
    return this.openScopes;
  }

  beginClosing(): void {
    if (this.phase === 'open') this.phase = 'closing';
  }

  markClosed(): void {
    this.phase = 'closed';
  }

  /** Refuses new work once closing; calls made by work that is already running may finish. */
  assertAcceptingWork(chain: ChainLink | undefined): void {
    if (this.phase === 'closed' || (this.phase === 'closing' && chain === undefined)) throw new ShutdownError();
  }

  assertNotClosed(): void {
    if (this.phase === 'closed') throw new ShutdownError();
  }

  turnStarted(): void {
    this.activeTurns += 1;
  }

  turnEnded(): void {
    this.activeTurns -= 1;
    this.notifyIdle();
  }

  scopeOpened(): void {
    this.openScopes += 1;
  }

  scopeClosed(): void {
    this.openScopes -= 1;
    this.notifyIdle();
  }

  /** Resolves when no call or scope runs, or at `deadline` (ms since epoch on `clock`), whichever comes first. */
  async waitForIdle(deadline: number, clock: Clock): Promise<void> {
    if (this.activeTurns === 0 && this.openScopes === 0) return;
    const remaining = deadline - clock.now();
    if (remaining <= 0) return;
    let timer: unknown;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = clock.setTimeout(resolve, remaining);
      }),
    ]);
    clock.clearTimeout(timer);
  }

  private notifyIdle(): void {
    if (this.activeTurns === 0 && this.openScopes === 0 && this.idleWaiters.length > 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }
}
