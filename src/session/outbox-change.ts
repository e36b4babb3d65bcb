import { encodeState } from '../object/codec.js';
import type { ObjectCore, OutboxWrite } from '../object/object-core.js';
import { dataTargets } from '../triggers/match.js';
import { changeEvent, OUTBOX_ENTRY, stampEvents, type OutboxEvent } from '../triggers/outbox.js';

/**
 * What a commit of `core` writes of its outbox, or `undefined` when it
 * leaves it as it is: the events already stored, then the events of calls
 * recorded since, the failed calls', and the event of this change itself
 * when the class has data triggers for it, all stamped with the version the
 * commit writes. `changedKeys` names the fields the commit writes (none: a
 * commit of reserved entries only, which is no change of the object's data).
 */
export function outboxChange(core: ObjectCore, isNew: boolean, changedKeys: readonly string[]): OutboxWrite | undefined {
  const triggers = core.triggers;
  const current = core.outbox;
  const failures = core.pendingFailures;
  const touched = core.isDirty(OUTBOX_ENTRY);
  if (triggers === undefined && !touched && !(isNew && current !== undefined)) return undefined;
  const stored: OutboxEvent[] = [];
  const recorded: OutboxEvent[] = [];
  for (const event of current ?? []) (event.id === '' ? recorded : stored).push(event);
  const events = [...recorded, ...(failures ?? [])];
  const version = isNew ? 1 : core.version + 1;
  if (triggers !== undefined && (isNew || changedKeys.length > 0)) {
    const kind = isNew ? 'create' : 'update';
    const targets = dataTargets(triggers, kind, changedKeys);
    if (targets.length > 0) events.push(changeEvent(kind, version, changedKeys, targets, Date.now()));
  }
  const list = stampEvents(stored, events, version);
  const text = list.length === 0 ? null : encodeState(list);
  if (events.length === 0 && text === (core.committedOutbox ?? null)) return undefined;
  return { list, text, recorded: recorded.length, failed: failures?.length ?? 0 };
}
