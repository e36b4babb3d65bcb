import type { Logger } from 'pino';
import { keyString } from '../../identity.js';
import type { ObjectRef } from '../../object/object-ref.js';
import type { ChangeEvent, WatchEvent, WatchListener } from './watch-types.js';

/** Counts shared by a hub's watchers. */
export interface DeliveryCounts {
  delivered: number;
  gaps: number;
}

interface Range {
  from: number;
  to: number;
}

/**
 * One listener: its buffer, the last version it has accounted for per object
 * (delivered, or named in a gap), and the gaps it still has to be told of.
 * Events reach the listener one at a time, outside the commit that caused them.
 */
export class Watcher {
  private readonly queue: WatchEvent[] = [];
  private readonly last = new Map<string, number>();
  /** Per object: versions dropped while the buffer was full, delivered as gaps once there is room. */
  private readonly missed = new Map<string, { ref: ObjectRef; ranges: Range[] }>();
  private running = false;
  private closed = false;
  /** Set while an object watch reads the stored version it starts from; events wait here. */
  private priming: ChangeEvent[] | undefined;

  constructor(
    private readonly listener: WatchListener,
    private readonly bufferSize: number,
    private readonly logger: Logger,
    priming: boolean,
    private readonly counts: DeliveryCounts,
  ) {
    if (priming) this.priming = [];
  }

  /** Takes one committed version; never throws and never waits. */
  offer(event: ChangeEvent): void {
    if (this.closed) return;
    if (this.priming !== undefined) {
      this.priming.push(event);
      return;
    }
    const id = keyString(event.ref);
    const last = this.last.get(id);
    // A create starts a new life of the object: versions count from 1 again.
    const fresh = event.kind === 'create' || last === undefined;
    if (!fresh && event.version <= last) return; // heard twice, or older than what was accounted for
    const from = fresh ? event.version : last + 1;
    this.last.set(id, event.version);
    const missed = this.missed.get(id);
    if (missed !== undefined || this.queue.length + (from < event.version ? 2 : 1) > this.bufferSize) {
      this.miss(id, event.ref, from, event.version);
      return;
    }
    if (from < event.version) this.queue.push({ kind: 'gap', ref: event.ref, from, to: event.version - 1 });
    this.queue.push(event);
    this.schedule();
  }

  /**
   * Ends priming: `stored` is the object's version when the watch began
   * (`undefined`: absent), `since` the last version the caller has seen
   * (`undefined`: start from the stored version, delivering what was
   * committed while it was read).
   */
  prime(ref: ObjectRef, since: number | undefined, stored: number | undefined): void {
    const held = this.priming ?? [];
    this.priming = undefined;
    if (this.closed) return;
    const id = keyString(ref);
    const next = held.find((e) => e.kind !== 'create');
    const base = since ?? Math.min(stored ?? 0, next === undefined ? Infinity : next.version - 1);
    this.last.set(id, base);
    if (stored !== undefined && stored > base) {
      const later = held.find((e) => e.version > base && e.kind !== 'create');
      const to = later === undefined ? stored : Math.min(stored, later.version - 1);
      if (to > base) {
        this.queue.push({ kind: 'gap', ref, from: base + 1, to });
        this.last.set(id, to);
      }
    }
    for (const event of held) this.offer(event);
    this.schedule();
  }

  /** Counts `version` of `ref` as seen: a later version that skips some comes after a gap. */
  seen(ref: ObjectRef, version: number): void {
    this.last.set(keyString(ref), version);
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.missed.clear();
  }

  private miss(id: string, ref: ObjectRef, from: number, to: number): void {
    let entry = this.missed.get(id);
    if (entry === undefined) this.missed.set(id, (entry = { ref, ranges: [] }));
    const tail = entry.ranges.at(-1);
    if (tail !== undefined && from === tail.to + 1) tail.to = to;
    else entry.ranges.push({ from, to });
    this.schedule();
  }

  /** Moves missed versions into the buffer as gaps, an object's ranges together, while there is room. */
  private flushMissed(): void {
    for (const [id, { ref, ranges }] of this.missed) {
      if (this.queue.length >= this.bufferSize) return;
      for (const { from, to } of ranges) this.queue.push({ kind: 'gap', ref, from, to });
      this.missed.delete(id);
    }
  }

  private schedule(): void {
    if (this.running || this.closed) return;
    this.running = true;
    queueMicrotask(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        if (this.queue.length < this.bufferSize) this.flushMissed();
        const event = this.queue.shift();
        if (event === undefined) break;
        if (event.kind === 'gap') this.counts.gaps += 1;
        else this.counts.delivered += 1;
        try {
          await this.listener(event);
        } catch (error) {
          this.logger.warn({ err: error, object: String(event.ref), version: event.kind === 'gap' ? event.to : event.version }, 'a watch listener threw; the commit is unaffected and later events are still delivered');
        }
      }
    } finally {
      this.running = false;
    }
  }
}
