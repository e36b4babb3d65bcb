import { backoffDelay } from '../../backoff.js';
import { ClassNotFoundError, MethodNotFoundError, ObjectNotFoundError, formatIdentity } from '../../errors.js';
import type { ObjectKey } from '../../identity.js';
import { callMethod, type CreateOptions, type OaasObject } from '../../object/oaas-object.js';
import type { ObjectCore } from '../../object/object-core.js';
import type { ClassMeta } from '../../registry/class-meta.js';
import { findClassMetaById } from '../../registry/registry.js';
import { idempotencyKeyOf, triggerEventOf, type OutboxEvent } from '../../triggers/outbox.js';
import type { ResolvedTarget } from '../../triggers/resolve-triggers.js';
import { findIdempotentResult, idempotencyId, recordIdempotentResult } from '../idempotency.js';
import { isContention } from '../contention.js';
import { loadFresh, WAKE_SCOPE_RETRIES, type WakeWorkParts } from '../wake-work.js';
import { OutboxRecord } from './outbox-record.js';

/** A delivery of a trigger event that failed (its target threw, or could not be reached). */
export interface TriggerErrorEvent {
  readonly error: Error;
  /** The object the event is about. */
  readonly source: ObjectKey;
  readonly kind: OutboxEvent['kind'];
  readonly version: number;
  readonly target: ResolvedTarget;
  /** Failed deliveries of this event to this target so far, this one included. */
  readonly attempt: number;
  /** Given up after `reminders.maxAttempts`: the event is dropped for its remaining targets. */
  readonly dropped: boolean;
}

export type TriggerErrorListener = (event: TriggerErrorEvent) => void;

/** What delivery needs from the runtime: also sessions of its own (for stateless targets) and creation (outbox records). */
export interface TriggerDeliveryParts extends WakeWorkParts<TriggerErrorEvent> {
  runInSession<T>(fn: () => Promise<T>): Promise<T>;
  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions): OaasObject;
  /** How long a delivery's idempotency record is kept, when it expires at all. */
  idempotencyExpiry(): number | undefined;
}

/** The figures of delivery. */
export interface DeliveryCounts {
  delivered: number;
  /** Deliveries a target had already taken (after a crash between delivery and its record): skipped, not run again. */
  redelivered: number;
  failed: number;
  dropped: number;
  /** Events waiting in the outboxes seen at the last delivery. */
  depth: number;
}


/**
 * Delivers an object's trigger events, first to last, each to its targets
 * in order: every target call runs in a scope that also records the
 * event's idempotency key on the target, so a delivery repeated after a
 * crash (between a target's commit and the event's removal) finds the
 * record and does not run again. Once its targets have run, the event is
 * removed from the outbox by a commit of the source (a deleted object's
 * record is deleted with its last event). A failing target is retried with
 * back-off and, after the bound, the event is dropped, reported and logged.
 */
export class TriggerDelivery {
  readonly counts: DeliveryCounts = { delivered: 0, redelivered: 0, failed: 0, dropped: 0, depth: 0 };

  constructor(private readonly parts: TriggerDeliveryParts) {}

  /** Delivers the first event of the object's outbox, if it has one that is due. */
  async deliverNext(meta: ClassMeta, key: ObjectKey): Promise<'delivered' | 'failed' | 'busy' | 'none'> {
    const core = await this.load(meta, key);
    if (core === undefined || core.remote) return 'none';
    const stored = (core.outbox ?? []).filter((e) => e.id !== '');
    this.counts.depth = stored.length;
    const event = stored[0];
    if (event === undefined || (event.retryAt ?? 0) > this.parts.clock.now()) return 'none';
    const source = sourceOf(core);
    for (const target of event.targets) {
      try {
        await this.deliver(source, event, target);
      } catch (error) {
        // Contention at the target is no failure of the target: the event stays due as it was.
        if (isContention(error)) {
          this.parts.logger.info({ source: formatIdentity(source), event: event.id, target: `${target.clsId}.${target.method}`, err: error }, 'a trigger delivery met other writers; it is delivered again');
          return 'busy';
        }
        await this.failed(meta, key, source, event, target, error as Error);
        return 'failed';
      }
      // Delivered: the event no longer waits for this target, whatever happens to the rest.
      await this.settle(meta, key, event, (e) => ({ ...e, targets: e.targets.slice(1), attempts: 0, retryAt: undefined }));
    }
    this.counts.delivered += 1;
    return 'delivered';
  }

  private async load(meta: ClassMeta, key: ObjectKey): Promise<ObjectCore | undefined> {
    try {
      return await loadFresh(this.parts.load, meta, key);
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return undefined;
      throw error;
    }
  }

  /** One target's call, once per event: the key's record and the call's changes commit together. */
  private async deliver(source: ObjectKey, event: OutboxEvent, target: ResolvedTarget): Promise<void> {
    const meta = findClassMetaById(target.clsId);
    if (meta === undefined) throw new ClassNotFoundError(target.clsId);
    const method = meta.methodsByName.get(target.method);
    if (method === undefined) throw new MethodNotFoundError(target.clsId, target.method);
    const key = idempotencyKeyOf(source, event);
    const payload = triggerEventOf(source, event);
    const partitionId = target.partitionId ?? source.partitionId;
    if (target.objectId === undefined) {
      // A stateless target has no object to keep a record on: it may see a repeated delivery, with the same key.
      await this.parts.runInSession(() => Promise.resolve(callMethod(new (meta.ctor as new () => OaasObject)(), method, [payload])));
      return;
    }
    const objectId = target.objectId;
    const recordId = idempotencyId(meta.clsId, objectId, method.name, key);
    await this.parts.scope(
      async () => {
        if ((await findIdempotentResult((ctor, id, options) => this.parts.load(ctor, id, options), recordId, partitionId)) !== undefined) {
          this.counts.redelivered += 1;
          return;
        }
        const object = await this.parts.load(meta.ctor as abstract new () => OaasObject, objectId, { partitionId });
        await callMethod(object, method, [payload]);
        recordIdempotentResult((ctor, init, options) => this.parts.create(ctor, init, options), recordId, partitionId, null, this.parts.idempotencyExpiry());
      },
      { partitionId, retries: WAKE_SCOPE_RETRIES },
    );
  }

  /** Replaces the event (by id) in the source's outbox with `change(event)`, or removes it when that leaves no target. */
  private async settle(meta: ClassMeta, key: ObjectKey, event: OutboxEvent, change: (event: OutboxEvent) => OutboxEvent): Promise<void> {
    await this.parts.scope(
      async () => {
        const core = await this.load(meta, key);
        if (core === undefined) return;
        const outbox = core.outbox ?? [];
        const current = outbox.find((e) => e.id === event.id);
        if (current === undefined) return;
        const next = change(current);
        const rest = next.targets.length === 0 ? outbox.filter((e) => e !== current) : outbox.map((e) => (e === current ? next : e));
        core.writeOutbox(rest);
        // A deleted object's record has done its work once it is empty.
        if (meta.ctor === OutboxRecord && rest.length === 0) await core.host.deleteObject(core);
      },
      { partitionId: key.partitionId, retries: WAKE_SCOPE_RETRIES },
    );
  }

  private async failed(meta: ClassMeta, key: ObjectKey, source: ObjectKey, event: OutboxEvent, target: ResolvedTarget, error: Error): Promise<void> {
    const { config, clock, logger } = this.parts;
    const attempt = event.attempts + 1;
    const dropped = attempt >= config.maxAttempts;
    this.counts.failed += 1;
    if (dropped) this.counts.dropped += 1;
    const where = { source: formatIdentity(source), event: event.id, kind: event.kind, target: `${target.clsId}.${target.method}`, attempt, err: error };
    if (dropped) logger.error(where, `trigger delivery failed ${attempt} times; the event is dropped for its remaining targets`);
    else logger.warn(where, 'trigger delivery failed; it is tried again');
    const retryAt = clock.now() + backoffDelay(attempt, config.retryBaseMs, config.retryCapMs);
    try {
      await this.settle(meta, key, event, (e) => (dropped ? { ...e, targets: [] } : { ...e, attempts: attempt, retryAt }));
    } catch (bookkeeping) {
      logger.error({ source: formatIdentity(source), event: event.id, err: bookkeeping }, 'recording a failed delivery failed; the event stays due');
    }
    this.parts.reports.emit({ error, source, kind: event.kind, version: event.version, target, attempt, dropped });
  }
}

/** The object an outbox's events are about: the object itself, or for a deleted object's record, the deleted object. */
function sourceOf(core: ObjectCore): ObjectKey {
  if (core.meta.ctor !== OutboxRecord) return core.key;
  const { cls, partitionId, objectId } = (core.proxy as OutboxRecord).source;
  return { clsId: cls, partitionId, objectId };
}
