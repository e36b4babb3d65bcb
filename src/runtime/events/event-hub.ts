import type { Logger } from 'pino';
import { keyString } from '../../identity.js';
import { ObjectRef } from '../../object/object-ref.js';
import type { EventStats } from '../../observability/telemetry.js';
import type { Store, StoreChange } from '../../stores/store.js';
import type { ChangeEvent, Unwatch } from './watch-types.js';
import type { WatchRequest } from './watch-target.js';
import { Watcher, type DeliveryCounts } from './watcher.js';

/**
 * The runtime's change events: takes the changes this process committed
 * (from the commit pipeline, after the store accepted them) and those other
 * processes committed (from the store's subscription, when it has one), and
 * hands each to the watchers of its object and of its class. Costs nothing
 * on the commit path while nobody watches.
 */
export class EventHub {
  private readonly byObject = new Map<string, Set<Watcher>>();
  private readonly byClass = new Map<string, Set<Watcher>>();
  private watchers = 0;
  private listening: Promise<void> | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private closed = false;
  private readonly counts: DeliveryCounts = { delivered: 0, gaps: 0 };
  private committedCount = 0;
  private receivedCount = 0;

  constructor(
    private readonly store: () => Promise<Store>,
    private readonly logger: Logger,
  ) {}

  /** Watches registered and not yet stopped. */
  get count(): number {
    return this.watchers;
  }

  /** Whether anyone watches: the commit pipeline reports its changes only then. */
  get active(): boolean {
    return this.watchers > 0;
  }

  /** The figures for the runtime's metrics. */
  stats(): EventStats {
    return { watches: this.watchers, committed: this.committedCount, received: this.receivedCount, delivered: this.counts.delivered, gaps: this.counts.gaps };
  }

  /** Changes this process committed; never throws. */
  committed(changes: readonly StoreChange[]): void {
    this.committedCount += changes.length;
    this.deliver(changes);
  }

  private received(changes: readonly StoreChange[]): void {
    this.receivedCount += changes.length;
    this.deliver(changes);
  }

  private deliver(changes: readonly StoreChange[]): void {
    for (const change of changes) {
      const objectWatchers = this.byObject.get(keyString(change.key));
      const classWatchers = this.byClass.get(classKey(change.key.clsId, change.key.partitionId));
      if (objectWatchers === undefined && classWatchers === undefined) continue;
      let event: ChangeEvent;
      try {
        event = { kind: change.kind, ref: new ObjectRef(change.key.clsId, change.key.partitionId, change.key.objectId), version: change.version, changed: change.changed };
      } catch (error) {
        this.logger.warn({ err: error }, 'a change event names an object id this SDK cannot refer to; skipped');
        continue;
      }
      for (const watcher of objectWatchers ?? []) watcher.offer(event);
      for (const watcher of classWatchers ?? []) watcher.offer(event);
    }
  }

  /** Registers a checked watch. */
  watch(request: WatchRequest): Unwatch {
    const { target } = request;
    const object = target.kind === 'object';
    // An object watch starts from the stored version (or `since`), so that any version it then misses, here or elsewhere, comes as a gap.
    const watcher = new Watcher(request.listener, request.bufferSize, this.logger, object, this.counts);
    if (target.kind === 'class' && request.after !== undefined) watcher.seen(new ObjectRef(target.clsId, target.partitionId, request.after.objectId), request.after.version);
    const map = object ? this.byObject : this.byClass;
    const key = object ? keyString(target.ref) : classKey(target.clsId, target.partitionId);
    let set = map.get(key);
    if (set === undefined) map.set(key, (set = new Set()));
    set.add(watcher);
    this.watchers += 1;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      watcher.close();
      set.delete(watcher);
      if (set.size === 0 && map.get(key) === set) map.delete(key);
      this.watchers -= 1;
    };
    const listening = this.listen();
    const since = request.since;
    const ready =
      target.kind === 'object'
        ? Promise.all([listening, this.store().then((store) => store.get(target.ref))]).then(
            ([, stored]) => {
              watcher.prime(target.ref, since, stored?.version);
            },
            (error: unknown) => {
              watcher.prime(target.ref, since, undefined);
              throw error;
            },
          )
        : listening;
    // The caller may never look at `ready`; a failure is logged by listen() either way.
    ready.catch(() => undefined);
    return Object.assign(stop, { ready });
  }

  /** Stops listening to the store; watchers get nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    const stop = this.stopListening;
    this.stopListening = undefined;
    await stop?.().catch(() => undefined);
  }

  /** Subscribes to the store once, on the first watch; a failure is retried by the next watch. */
  private listen(): Promise<void> {
    this.listening ??= this.subscribe().catch((error: unknown) => {
      this.listening = undefined;
      this.logger.error({ err: error }, 'listening to the store for other processes\' changes failed; watches see this process\'s commits only');
      throw error;
    });
    return this.listening;
  }

  private async subscribe(): Promise<void> {
    const store = await this.store();
    if (store.subscribe === undefined || this.closed) return;
    const stop = await store.subscribe((changes) => {
      this.received(changes);
    });
    if (this.closed) await stop();
    else this.stopListening = stop;
  }
}

function classKey(clsId: string, partitionId: number): string {
  return `${clsId}\u0000${String(partitionId)}`;
}
