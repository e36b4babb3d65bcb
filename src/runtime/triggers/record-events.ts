/**
 * Recording trigger events where they happen: a call's end, an object's
 * deletion. Data events of creations and updates are recorded by the
 * commit itself (`session/outbox-change.ts`).
 */
import { coreOf, type CreateOptions, type OaasObject } from '../../object/oaas-object.js';
import type { ObjectCore } from '../../object/object-core.js';
import type { MethodMeta } from '../../registry/class-meta.js';
import { frameFor, type ChainLink } from '../../session/call-chain.js';
import type { ManagedSession } from '../../session/session.js';
import { dataTargets, functionTargets } from '../../triggers/match.js';
import { callEvent, changeEvent, OUTBOX_ENTRY, stampEvents, type OutboxEvent } from '../../triggers/outbox.js';
import { OutboxRecord } from './outbox-record.js';

/**
 * A call ended on an object with triggers. A completed call's event joins
 * the call's changes (kept or rolled back with what encloses it: a scope's
 * failure drops it); a failed call's event is kept beyond any rollback and
 * committed by `failures`, a session of the runtime's own.
 */
export function recordCall(core: ObjectCore, method: MethodMeta, parent: ChainLink | undefined, ok: boolean, error: unknown, context: () => ManagedSession, failures: () => ManagedSession): void {
  const targets = functionTargets(core.triggers!, method.name, ok ? 'complete' : 'error');
  if (targets.length === 0) return;
  const event = callEvent(ok ? 'complete' : 'error', method.name, targets, Date.now(), ok ? undefined : error);
  if (ok) {
    frameFor(parent, core)?.record(OUTBOX_ENTRY);
    core.appendOutbox(event);
    context().track(core);
  } else {
    core.recordFailure(event);
    failures().track(core);
  }
}

/**
 * A stored object is being deleted: its `delete` event and the events it
 * has not delivered move to a new {@link OutboxRecord}, created in the same
 * unit of work, so the commit that deletes the object also records them.
 */
export function recordDeletion(core: ObjectCore, create: (ctor: typeof OutboxRecord, init: unknown, options: CreateOptions) => OaasObject, id: string): void {
  if (core.lifecycle !== 'stored') return;
  const triggers = core.triggers;
  const outbox = core.outbox ?? [];
  const version = core.version + 1;
  const events: OutboxEvent[] = [...outbox.filter((e) => e.id === ''), ...(core.pendingFailures ?? [])];
  if (triggers !== undefined) {
    const targets = dataTargets(triggers, 'delete', []);
    if (targets.length > 0) events.push(changeEvent('delete', version, [], targets, Date.now()));
  }
  const stored = outbox.filter((e) => e.id !== '');
  if (stored.length === 0 && events.length === 0) return;
  const { clsId, partitionId, objectId } = core.key;
  const record = create(OutboxRecord, { source: { cls: clsId, partitionId, objectId } }, { id, partitionId });
  coreOf(record).writeOutbox(stampEvents(stored, events, version));
}
