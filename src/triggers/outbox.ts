/**
 * The outbox: trigger events waiting to be delivered. An object's events
 * are one reserved entry of the object itself ({@link OUTBOX_ENTRY}), so
 * the commit that causes an event writes it in the same transaction as the
 * change, and a crash leaves both or neither. They are delivered after the
 * commit, in order, and removed by a commit once their targets have run.
 * A deleted object's last events (its `delete` among them) move to an
 * outbox object of their own (`OutboxRecord`), created by the commit that
 * deletes it.
 */
import { describeValue } from '../describe.js';
import type { ObjectKey } from '../identity.js';
import type { ResolvedTarget } from './resolve-triggers.js';

/** The entry key of an object's outbox; also the instance property holding it while the object is live. */
export const OUTBOX_ENTRY = '__oaas_outbox';

/** What happened. */
export type TriggerKind = 'create' | 'update' | 'delete' | 'complete' | 'error';

/** One event in an outbox. */
export interface OutboxEvent {
  /** Unique in its source object's outbox: `<version>.<n>` once stamped by a commit; empty until then. */
  readonly id: string;
  readonly kind: TriggerKind;
  /** The source object's version the commit recording the event wrote (0 until stamped). */
  readonly version: number;
  /** The entry keys the change wrote (data events). */
  readonly changed?: readonly string[] | undefined;
  /** The method whose call ended (function events). */
  readonly method?: string | undefined;
  /** How it failed (`error` events). */
  readonly error?: { readonly name: string; readonly message: string } | undefined;
  /** When it happened (ms since the epoch). */
  readonly at: number;
  /** Targets still to invoke, in order. */
  readonly targets: readonly ResolvedTarget[];
  /** Failed deliveries of the first target so far. */
  readonly attempts: number;
  /** After a failed delivery: not before this time (ms since the epoch). */
  readonly retryAt?: number | undefined;
}

/** What a target receives: the event, without the SDK's bookkeeping. */
export interface TriggerEvent {
  /** The object the event is about. */
  readonly source: { readonly cls: string; readonly partitionId: number; readonly objectId: string };
  readonly kind: TriggerKind;
  /** The version of the source that the commit recording the event wrote. */
  readonly version: number;
  readonly changed?: readonly string[] | undefined;
  readonly method?: string | undefined;
  readonly error?: { readonly name: string; readonly message: string } | undefined;
  /** The same for every delivery of this event to this target: the key an idempotent target dedupes on. */
  readonly idempotencyKey: string;
}

/** An event of a call, to be stamped by the commit that records it. */
export function callEvent(kind: 'complete' | 'error', method: string, targets: readonly ResolvedTarget[], at: number, error?: unknown): OutboxEvent {
  const failure = error === undefined ? undefined : { name: error instanceof Error ? error.name : typeof error, message: error instanceof Error ? error.message : describeValue(error) };
  return { id: '', kind, version: 0, method, ...(failure === undefined ? {} : { error: failure }), at, targets, attempts: 0 };
}

/** An event of a change, stamped with the version its commit writes. */
export function changeEvent(kind: 'create' | 'update' | 'delete', version: number, changed: readonly string[], targets: readonly ResolvedTarget[], at: number): OutboxEvent {
  return { id: '', kind, version, changed, at, targets, attempts: 0 };
}

/**
 * The outbox a commit writing `version` leaves: `committed` as stored, then
 * the events recorded since (stamped with `version` and their place).
 */
export function stampEvents(committed: readonly OutboxEvent[], recorded: readonly OutboxEvent[], version: number): OutboxEvent[] {
  const out = [...committed];
  recorded.forEach((event, n) => out.push({ ...event, id: `${version}.${n}`, version }));
  return out;
}

/** The key a target sees for an event: the source (`cls/partition/id`, none of which may hold a `/`) and the event's id, unique per source object. */
export function idempotencyKeyOf(source: ObjectKey, event: OutboxEvent): string {
  return `${source.clsId}/${source.partitionId}/${source.objectId}@${event.id}`;
}

/** The payload a target receives. */
export function triggerEventOf(source: ObjectKey, event: OutboxEvent): TriggerEvent {
  return {
    source: { cls: source.clsId, partitionId: source.partitionId, objectId: source.objectId },
    kind: event.kind,
    version: event.version,
    ...(event.changed === undefined ? {} : { changed: event.changed }),
    ...(event.method === undefined ? {} : { method: event.method }),
    ...(event.error === undefined ? {} : { error: event.error }),
    idempotencyKey: idempotencyKeyOf(source, event),
  };
}

/** The outbox as stored, read back; a malformed entry reads as empty. */
export function parseOutbox(value: unknown): OutboxEvent[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out = (value as unknown[]).filter((e): e is OutboxEvent => {
    const event = e as Partial<OutboxEvent> | null;
    return typeof event === 'object' && event !== null && typeof event.id === 'string' && typeof event.kind === 'string' && Array.isArray(event.targets);
  });
  return out.length === 0 ? undefined : out;
}

/**
 * When an object with this outbox wants its events delivered: at once (0,
 * the earliest time there is, whatever the runtime's clock reads), at its
 * first event's retry time after a failed delivery, or never (`null`).
 */
export function outboxWake(outbox: readonly OutboxEvent[] | undefined): number | null {
  const first = outbox?.[0];
  return first === undefined ? null : (first.retryAt ?? 0);
}
