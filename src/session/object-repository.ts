import { AlreadyExistsError, ObjectNotFoundError, RegistrationError, type ObjectIdentity } from '../errors.js';
import { bytesToText, decodeState, toStateValue } from '../object/codec.js';
import { ObjectCore, type Lifecycle, type ObjectHost, type PendingOwner } from '../object/object-core.js';
import type { OaasObject } from '../object/oaas-object.js';
import { rawOf } from '../object/raw.js';
import { parseReminders, REMINDERS_ENTRY } from '../object/reminders.js';
import { OUTBOX_ENTRY, parseOutbox } from '../triggers/outbox.js';
import { triggersOf } from '../triggers/class-triggers.js';
import { stateFieldsOf, type EntryKeyRule } from '../object/state-fields.js';
import { CORE, type Instance } from '../object/tracking.js';
import type { ClassMeta } from '../registry/class-meta.js';
import { keyString, type ObjectKey, type Store, type StoredObject } from '../stores/store.js';
import type { IdentityMap } from './identity-map.js';
import { forgetEverywhere } from './session.js';

/**
 * Where live objects come from and go: constructing them, reading them from
 * the store (one read per object however many contexts ask at once),
 * keeping one live instance per object, and putting stored state back into
 * them after a conflict or a refresh.
 */
export class ObjectRepository {
  private readonly loading = new Map<string, Promise<ObjectCore>>();

  constructor(
    private readonly host: ObjectHost,
    private readonly store: () => Promise<Store>,
    /** One live instance per object; the commit pipeline drops deleted objects from it too. */
    readonly identity: IdentityMap,
    /** How the store keeps entry keys, when not as given. */
    private readonly entryKeys?: EntryKeyRule | undefined,
  ) {}

  /** Constructs an instance with no arguments and attaches a core to it. */
  instantiate(meta: ClassMeta, key: ObjectKey, lifecycle: Lifecycle): ObjectCore {
    let proxy: OaasObject;
    try {
      proxy = new (meta.ctor as new () => OaasObject)();
    } catch (error) {
      throw new RegistrationError(`${meta.clsId}: the constructor must work with no arguments (${(error as Error).message})`, { cause: error });
    }
    const target = rawOf(proxy) as unknown as Instance & Record<string, unknown>;
    const fields = stateFieldsOf(meta, target, this.entryKeys);
    const core = new ObjectCore(key, meta, fields, target, proxy, this.host, lifecycle);
    core.triggers = triggersOf(meta);
    // Initialisers become independent, validated state (a shared default object would otherwise leak between objects).
    for (const prop of fields.props) target[prop] = toStateValue(target[prop], core.location(prop));
    target[CORE] = core;
    return core;
  }

  /** A new object with `init` applied; registered as live only once everything is valid. */
  create(meta: ClassMeta, key: ObjectKey, init: Readonly<Record<string, unknown>> | undefined, check: (prop: string) => void): ObjectCore {
    const live = this.identity.get(keyString(key));
    if (live !== undefined && this.cancelledCreation(live)) this.discard(live);
    else if (live !== undefined && live.lifecycle !== 'gone' && live.lifecycle !== 'discarded') throw new AlreadyExistsError([key]);
    const core = this.instantiate(meta, key, 'new');
    if (init !== undefined) {
      for (const [prop, value] of Object.entries(init)) {
        if (!core.fields.has(prop)) check(prop);
        core.target[prop] = toStateValue(value, core.location(prop));
      }
    }
    return core;
  }

  /** Makes a created object the live instance of its id. */
  register(core: ObjectCore): void {
    this.identity.add(core);
  }

  /** The live instance, else the stored object read once for every concurrent caller. */
  async resolve(meta: ClassMeta, key: ObjectKey): Promise<ObjectCore> {
    const k = keyString(key);
    const live = this.identity.get(k);
    if (live !== undefined && this.cancelledCreation(live)) {
      // The local copy was a creation deleted before any commit (one that met an existing object, say): the store decides.
      this.discard(live);
    } else if (live !== undefined) {
      if (live.unusable) throw new ObjectNotFoundError(key);
      return live;
    }
    let pending = this.loading.get(k);
    if (pending === undefined) {
      pending = this.read(meta, key).finally(() => this.loading.delete(k));
      this.loading.set(k, pending);
    }
    return pending;
  }

  private async read(meta: ClassMeta, key: ObjectKey): Promise<ObjectCore> {
    const stored = await (await this.store()).get(key);
    const live = this.identity.get(keyString(key));
    if (live !== undefined && !live.unusable) return live;
    if (stored === undefined) throw new ObjectNotFoundError(key);
    const core = this.instantiate(meta, key, 'stored');
    applyStored(core, stored);
    this.identity.add(core);
    return core;
  }

  /** The live instance of a key, if any. */
  live(key: ObjectIdentity): ObjectCore | undefined {
    return this.identity.get(keyString({ clsId: key.clsId, partitionId: key.partitionId, objectId: key.objectId }));
  }

  /**
   * Puts the store's state into a live object, dropping whatever it had
   * pending, for a caller that may take it: `mayTake(core)` says whether
   * nobody else holds its turn. The read is the only wait; the object is
   * changed only if it is still free and unwritten once the read is back,
   * so a call that took the object meanwhile keeps its change (it meets the
   * conflict at its own commit). `reporter` is the unit of work that reports
   * the discarded changes (`'all'`: the caller reports for everyone). Resolves with `'reloaded'`, `'gone'` (the
   * store no longer has it) or `'busy'` (left as it was).
   */
  async reload(core: ObjectCore, mayTake: (core: ObjectCore) => boolean, reporter: PendingOwner | 'all'): Promise<'reloaded' | 'gone' | 'busy'> {
    if (!mayTake(core)) return 'busy';
    const seq = core.writeSeq;
    const stored = await (await this.store()).get(core.key);
    if (!mayTake(core) || core.writeSeq !== seq) return 'busy';
    // Every other unit of work with changes on this object learns they are gone; `reporter` reports them itself.
    if (reporter !== 'all' && core.hasPendingChanges) {
      for (const owner of core.owners) if (owner !== reporter) owner.discarded(core, core.version, stored?.version ?? 0);
    }
    core.dropChanges();
    forgetEverywhere(core);
    if (stored === undefined) {
      this.forgetGone(core);
      return 'gone';
    }
    applyStored(core, stored);
    return 'reloaded';
  }

  /** Re-reads a clean object (under its turn, which the caller holds); `false` when the store no longer has it. */
  async refresh(core: ObjectCore): Promise<boolean> {
    const stored = await (await this.store()).get(core.key);
    if (stored === undefined) {
      this.forgetGone(core);
      return false;
    }
    if (stored.version !== core.version) applyStored(core, stored);
    return true;
  }

  /** A creation deleted before it was ever stored, that no turn or scope holds (so no rollback can bring it back). */
  private cancelledCreation(core: ObjectCore): boolean {
    return core.lifecycle === 'new' && core.deleted && !core.locked;
  }

  /** Drops an object whose creation was rolled back. */
  discard(core: ObjectCore): void {
    core.markDiscarded();
    this.identity.remove(core);
    forgetEverywhere(core);
  }

  private forgetGone(core: ObjectCore): void {
    core.markGone();
    this.identity.remove(core);
  }
}

/** Sets an object's fields, encodings and version from what the store holds. */
function applyStored(core: ObjectCore, stored: StoredObject): void {
  const fields: [string, unknown, string][] = [];
  let foreign = false;
  let reminders: string | undefined;
  let outbox: string | undefined;
  for (const [key, bytes] of stored.entries) {
    const prop = core.fields.propOf(key);
    if (prop === undefined) {
      if (key === REMINDERS_ENTRY) {
        reminders = bytesToText(bytes);
        continue;
      }
      if (key === OUTBOX_ENTRY) {
        outbox = bytesToText(bytes);
        continue;
      }
      foreign = true;
      continue;
    }
    const text = bytesToText(bytes);
    fields.push([prop, decodeState(text), text]);
  }
  core.adoptStored(stored.version, fields, foreign);
  core.adoptReminders(reminders === undefined ? undefined : parseReminders(decodeState(reminders)), reminders);
  core.adoptOutbox(outbox === undefined ? undefined : parseOutbox(decodeState(outbox)), outbox);
  core.storeHint = stored.hint;
}
