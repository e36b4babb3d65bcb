import { ObjectDeletedError } from '../errors.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { keyString, type ObjectKey } from '../identity.js';
import type { ValueLocation } from './codec.js';
import { REMINDERS_ENTRY, type Reminder } from './reminders.js';
import { OUTBOX_ENTRY, type OutboxEvent } from '../triggers/outbox.js';
import type { ResolvedTriggers } from '../triggers/resolve-triggers.js';
import { ObjectLock, type LockHolder } from './object-lock.js';
import type { StateFields } from './state-fields.js';

/**
 * Keeps reminders on the instance under a property that is not enumerable,
 * so the object's own keys and JSON never show them; once defined, a
 * rollback's plain assignment keeps it so.
 */
function setReserved(target: Record<string, unknown>, key: string, value: readonly unknown[] | undefined): void {
  if (Object.prototype.hasOwnProperty.call(target, key)) target[key] = value;
  else if (value !== undefined) Object.defineProperty(target, key, { value, writable: true, enumerable: false, configurable: false });
}

/** See {@link ObjectCore}'s `own`. */
interface OwnEntries {
  /** The reminders entry's text as stored. */
  reminders?: string | undefined;
  /** The outbox entry's text as stored. */
  outbox?: string | undefined;
  /** Events of calls that failed, waiting for a commit: apart from the instance's outbox so that no rollback undoes them (the failure happened, whatever is rolled back). */
  failed?: OutboxEvent[] | undefined;
}

/** What a commit wrote of an object's outbox, for {@link ObjectCore.committedChange}. */
export interface OutboxWrite {
  /** The outbox as written (stamped events only). */
  readonly list: readonly OutboxEvent[];
  /** Its text, `null` when it is empty (the entry is removed). */
  readonly text: string | null;
  /** Events recorded by calls (on the instance, unstamped) that the write stamped. */
  readonly recorded: number;
  /** Failed-call events it stamped. */
  readonly failed: number;
}

/**
 * Where an object stands towards the store:
 * - `new`: created here, never persisted;
 * - `stored`: exists in the store at {@link ObjectCore.version};
 * - `gone`: its deletion was committed;
 * - `discarded`: its creation was rolled back.
 */
export type Lifecycle = 'new' | 'stored' | 'gone' | 'discarded';

/** A unit of work that has this object among its pending changes. */
export interface PendingOwner {
  /** Called when the object has nothing left to commit. */
  forget(core: ObjectCore): void;
  /**
   * Called when the object's pending changes are dropped because the store
   * holds a newer version (`expected` was the live version, `actual` the
   * stored one), so that this unit of work reports it instead of later
   * committing nothing as if it had succeeded.
   */
  discarded(core: ObjectCore, expected: number, actual: number, cause?: Error): void;
}

/**
 * What the object layer needs from the runtime that owns an object: every
 * write, call and delete passes through it (turns, undo records, sessions).
 */
export interface ObjectHost {
  /** Runs before a state field changes; may refuse by throwing. */
  beforeWrite(core: ObjectCore, prop: string): void;
  /** Calls a `@method`; a streaming one returns an async iterator instead of a promise. */
  invoke(core: ObjectCore, method: MethodMeta, args: unknown[]): Promise<unknown> | AsyncIterable<unknown>;
  /** Runs a `@getter` or `@setter`. */
  access(core: ObjectCore, accessor: AccessorMeta, args: unknown[]): Promise<unknown>;
  deleteObject(core: ObjectCore): Promise<void>;
  checkpoint(core: ObjectCore): Promise<void>;
  refresh(core: ObjectCore): Promise<void>;
  /** The time a reminder of this object counts from; throws when the runtime's store cannot keep reminders. */
  reminderClock(core: ObjectCore): number;
}

/** Records made so far in this process (see {@link ObjectCore.serial}). */
let serials = 0;

/**
 * The SDK's side of one live object: identity, version, what changed since
 * the last commit, and who holds its turn. The application sees only the
 * proxy; this record never leaves the SDK.
 */
export class ObjectCore {
  readonly keyString: string;
  /** This record's place in the order the process made records in: records made one after another sit near each other in memory. */
  readonly serial = ++serials;
  // The lifecycle (created, loaded, dirty, committed, deleted, discarded) is
  // owned here: other modules read it and call the transitions below, never
  // writing these fields themselves.
  private storedVersion = 0;
  private phase: Lifecycle;
  private deletePending = false;
  /** Encoded value of each field as the store last saw it, by field position (an array: smaller than a Map per object). */
  private committed: (string | undefined)[] | undefined;
  /**
   * Fields written since the last commit (a superset: the commit compares
   * encodings), as bits by field position: bit `i` is field `i`, so marking
   * and clearing allocate nothing (a set per object per commit was garbage
   * with many objects, and a cache miss per call).
   */
  private changedBits = 0;
  /** The rest of what was written: fields past the 31st and the SDK's own entries (reminders, outbox). */
  private changedMore: Set<string> | undefined;
  private seq = 0;
  /** The session that will commit this object (usually the only one): no set to make and drop per commit. */
  private firstOwner: PendingOwner | undefined;
  /** Further sessions that will commit it. */
  private moreOwners: Set<PendingOwner> | undefined;
  /** The owner that added the object last, until it lets go: a repeated write into the same session skips that session's set. */
  lastOwner: PendingOwner | undefined;
  /** When the object started waiting for a commit (ms since epoch); `undefined` when nothing waits. */
  pendingSince: number | undefined;
  /**
   * Who holds the object's turn: the holder itself while nobody else waits
   * (the common case: no lock object made per call), or an `ObjectLock`
   * once someone waits. `undefined` when free. One field, so idle objects
   * stay small.
   */
  private turn: LockHolder | ObjectLock | undefined;
  /** Cluster mode: the object's slot, computed once by the router. */
  slot: number | undefined;
  /** Where the store last said it keeps the object (`StoredObject.hint`), handed back with the next write. */
  storeHint: number | undefined;
  private elsewhere = false;
  private foreign = false;
  /**
   * The SDK's own entries (reminders, outbox) as the store last saw them,
   * and failed calls' events: made the first time the object has any, so
   * the many objects that never do stay one field smaller.
   */
  private own: OwnEntries | undefined;

  constructor(
    readonly key: ObjectKey,
    readonly meta: ClassMeta,
    readonly fields: StateFields,
    /** The plain instance behind the proxy. */
    readonly target: Record<string, unknown>,
    /** What the application holds. */
    readonly proxy: object,
    readonly host: ObjectHost,
    lifecycle: Lifecycle,
  ) {
    this.keyString = keyString(key);
    this.phase = lifecycle;
  }

  /** The version the store last confirmed (0 before the first commit). */
  get version(): number {
    return this.storedVersion;
  }

  get lifecycle(): Lifecycle {
    return this.phase;
  }

  /** A delete waits for the next commit. */
  get deleted(): boolean {
    return this.deletePending;
  }

  /** True when something was written since the last commit. */
  get hasDirty(): boolean {
    return this.changedBits !== 0 || this.changedMore !== undefined;
  }

  /** Written since the last commit: a field with its position, or one of the SDK's own entries. */
  isDirty(prop: string): boolean {
    const i = this.fields.indexOf(prop);
    if (i >= 0 && i < 31) return (this.changedBits & (1 << i)) !== 0;
    return this.changedMore?.has(prop) === true;
  }

  /** Bits by position of the first 31 fields written since the last commit. */
  get dirtyBits(): number {
    return this.changedBits;
  }

  /** What else was written since the last commit (fields past the 31st, the SDK's own entries). */
  get dirtyMore(): ReadonlySet<string> | undefined {
    return this.changedMore;
  }

  /** Sessions that will commit this object. */
  get owners(): PendingOwner[] {
    const owners = this.firstOwner === undefined ? [] : [this.firstOwner];
    for (const owner of this.moreOwners ?? []) owners.push(owner);
    return owners;
  }

  /** `owner` will commit this object; true when it is the first. */
  addOwner(owner: PendingOwner): boolean {
    if (this.firstOwner === undefined) {
      if (this.moreOwners?.has(owner) === true) return false;
      this.firstOwner = owner;
      return this.moreOwners === undefined;
    }
    if (this.firstOwner !== owner) (this.moreOwners ??= new Set()).add(owner);
    return false;
  }

  /** `owner` no longer commits this object; true when it was the last. */
  removeOwner(owner: PendingOwner): boolean {
    if (this.firstOwner === owner) this.firstOwner = undefined;
    else if (this.moreOwners?.delete(owner) !== true) return false;
    if (this.moreOwners?.size === 0) this.moreOwners = undefined;
    return this.firstOwner === undefined && this.moreOwners === undefined;
  }

  /** The only session that will commit this object, when there is exactly one. */
  get soleOwner(): PendingOwner | undefined {
    return this.moreOwners === undefined ? this.firstOwner : undefined;
  }

  /** The names of everything written since the last commit, for reports. */
  dirtyNames(): string[] {
    const names: string[] = [];
    const props = this.fields.props;
    for (let i = 0; i < props.length && i < 31; i++) if ((this.changedBits & (1 << i)) !== 0) names.push(props[i]!);
    for (const prop of this.changedMore ?? []) names.push(prop);
    return names;
  }

  /** Grows with every change; a commit keeps the object pending if it moved while the commit ran. */
  get writeSeq(): number {
    return this.seq;
  }

  /** The object's reminders (kept on the plain instance, so that rollback records treat them as a field). */
  get reminders(): readonly Reminder[] | undefined {
    return this.target[REMINDERS_ENTRY] as readonly Reminder[] | undefined;
  }

  /** The reminders entry as the store last saw it. */
  get committedReminders(): string | undefined {
    return this.own?.reminders;
  }

  /**
   * Replaces the reminders, as a write of the object (its rollback record
   * and session see it like a field's): `undefined` or empty removes them.
   */
  writeReminders(reminders: readonly Reminder[] | undefined): void {
    this.own ??= {};
    this.write(REMINDERS_ENTRY, () => {
      setReserved(this.target, REMINDERS_ENTRY, reminders === undefined || reminders.length === 0 ? undefined : reminders);
    });
  }

  /** Takes the reminders the store holds (`text` and their value), on a load or a reload. */
  adoptReminders(reminders: readonly Reminder[] | undefined, text: string | undefined): void {
    setReserved(this.target, REMINDERS_ENTRY, reminders);
    if (text !== undefined || this.own !== undefined) (this.own ??= {}).reminders = text;
  }

  /** The class's triggers, when it has any (set once, when the instance is made). */
  triggers: ResolvedTriggers | undefined;

  /**
   * True when the object has, or may have, entries of the SDK's own to
   * write: a commit of the others (most objects) skips them without a look.
   */
  get hasOwnEntries(): boolean {
    return this.own !== undefined || this.triggers !== undefined;
  }

  /** The outbox: stamped events (committed or being delivered), then events of calls not yet committed. */
  get outbox(): readonly OutboxEvent[] | undefined {
    return this.target[OUTBOX_ENTRY] as readonly OutboxEvent[] | undefined;
  }

  get committedOutbox(): string | undefined {
    return this.own?.outbox;
  }

  /** Failed-call events not yet committed. */
  get pendingFailures(): readonly OutboxEvent[] | undefined {
    return this.own?.failed;
  }

  /** Replaces the outbox as a write of the object (its rollback record and session see it). */
  writeOutbox(events: readonly OutboxEvent[] | undefined): void {
    this.own ??= {};
    this.write(OUTBOX_ENTRY, () => {
      setReserved(this.target, OUTBOX_ENTRY, events === undefined || events.length === 0 ? undefined : events);
    });
  }

  /** Appends a call's event; the caller has recorded the outbox in the rollback record it belongs to. */
  appendOutbox(event: OutboxEvent): void {
    this.own ??= {};
    setReserved(this.target, OUTBOX_ENTRY, [...(this.outbox ?? []), event]);
    this.markDirty(OUTBOX_ENTRY);
  }

  /** After a reload dropped the object's changes: failed calls' events still waiting are written by its next commit all the same. */
  keepFailuresPending(): boolean {
    if (this.own?.failed === undefined) return false;
    this.markDirty(OUTBOX_ENTRY);
    return true;
  }

  /** Records a failed call's event, beyond the reach of rollbacks; the next commit of the object writes it. */
  recordFailure(event: OutboxEvent): void {
    ((this.own ??= {}).failed ??= []).push(event);
    this.markDirty(OUTBOX_ENTRY);
  }

  /** Takes the outbox the store holds, on a load or a reload. */
  adoptOutbox(events: readonly OutboxEvent[] | undefined, text: string | undefined): void {
    setReserved(this.target, OUTBOX_ENTRY, events);
    if (text !== undefined || this.own !== undefined) (this.own ??= {}).outbox = text;
  }

  private outboxWritten(write: OutboxWrite): void {
    // Events calls recorded while the commit ran (past the ones it stamped) stay, after the written ones.
    const unstamped = (this.outbox ?? []).filter((e) => e.id === '');
    const later = unstamped.slice(write.recorded);
    const next = [...write.list, ...later];
    setReserved(this.target, OUTBOX_ENTRY, next.length === 0 ? undefined : next);
    const own = (this.own ??= {});
    own.failed?.splice(0, write.failed);
    if (own.failed?.length === 0) own.failed = undefined;
    own.outbox = write.text ?? undefined;
  }

  // Transitions

  /** A field was written (or must be written again). */
  markDirty(prop: string): void {
    this.markDirtyAt(this.fields.indexOf(prop), prop);
  }

  /** {@link markDirty} for a caller that knows the field's position (-1: not a field). */
  private markDirtyAt(index: number, prop: string): void {
    if (index >= 0 && index < 31) this.changedBits |= 1 << index;
    else (this.changedMore ??= new Set()).add(prop);
    this.seq += 1;
  }

  private clearDirty(): void {
    this.changedMore = undefined;
    this.changedBits = 0;
  }

  /** `delete()` ran: the delete waits for the next commit. */
  markDeleted(): void {
    this.deletePending = true;
    this.seq += 1;
  }

  /** A rollback puts back whether a delete was pending. */
  restoreDeleted(deleted: boolean): void {
    this.deletePending = deleted;
  }

  /**
   * The store accepted a change computed at `seq`: a written object takes
   * `version` and the encodings written (by field position). Returns `'removed'` for a committed
   * delete (a creation deleted before it was stored is discarded instead),
   * `'clean'` when nothing changed since the change was computed, `'dirty'`
   * otherwise.
   */
  committedChange(
    seq: number,
    version: number | undefined,
    encoded: readonly (string | undefined)[] | undefined,
    reminders?: string | null,
    outbox?: OutboxWrite,
  ): 'removed' | 'clean' | 'dirty' {
    if (this.deletePending && this.seq === seq) {
      this.phase = version === undefined && this.phase === 'new' ? 'discarded' : 'gone';
      this.clearDirty();
      return 'removed';
    }
    if (version !== undefined && encoded !== undefined) {
      this.storedVersion = version;
      this.phase = 'stored';
      const committed = (this.committed ??= new Array<string | undefined>(this.fields.props.length));
      for (let i = 0; i < encoded.length; i++) if (encoded[i] !== undefined) committed[i] = encoded[i];
      if (reminders !== undefined) (this.own ??= {}).reminders = reminders ?? undefined;
      if (outbox !== undefined) this.outboxWritten(outbox);
    }
    if (this.seq !== seq) return 'dirty';
    this.clearDirty();
    return 'clean';
  }

  /** Forgets every pending change and delete (a conflict showed them stale). */
  dropChanges(): void {
    this.seq += 1;
    this.clearDirty();
    this.deletePending = false;
  }

  /**
   * Takes the store's state (on a load, a refresh, or a reload after a
   * conflict): the version and each field's value and encoding. `foreign`:
   * the store also holds entries that are not fields of the class (written
   * by another release or another client), so commits must leave them be.
   */
  adoptStored(version: number, fields: Iterable<readonly [prop: string, value: unknown, text: string]>, foreign = false): void {
    this.seq += 1;
    this.storedVersion = version;
    for (const [prop, value, text] of fields) {
      this.target[prop] = value;
      this.setCommitted(prop, text);
    }
    this.phase = 'stored';
    this.foreign = foreign;
  }

  /** True when the store holds entries of this object that are not fields of its class; see {@link adoptStored}. */
  get hasForeignEntries(): boolean {
    return this.foreign;
  }

  /**
   * Cluster mode: another process owns the object (the instance was loaded
   * there, or its slot moved away). Its calls are forwarded to the owner and
   * its fields are a read-only copy; it never becomes live again (a later
   * load makes a new instance).
   */
  markRemote(): void {
    this.elsewhere = true;
  }

  /** True for an instance whose object another process owns; see {@link markRemote}. */
  get remote(): boolean {
    return this.elsewhere;
  }

  /** The store no longer holds the object. */
  markGone(): void {
    this.phase = 'gone';
  }

  /** Its creation was rolled back (or cancelled): it never existed. */
  markDiscarded(): void {
    this.phase = 'discarded';
    this.clearDirty();
  }

  /** True when a commit has something to write for this object. */
  get hasPendingChanges(): boolean {
    if (this.deleted) return this.lifecycle === 'stored';
    return this.lifecycle === 'new' || this.hasDirty;
  }

  /** True once the object can no longer be used: deleted (pending or committed) or discarded. */
  get unusable(): boolean {
    return this.deleted || this.lifecycle === 'gone' || this.lifecycle === 'discarded';
  }

  assertUsable(): void {
    if (this.unusable) throw new ObjectDeletedError(this.key);
  }

  /** Applies one change to a state field: the host records it first, then it is marked dirty. */
  write(prop: string, mutate: () => void): void {
    this.assertUsable();
    this.host.beforeWrite(this, prop);
    mutate();
    this.markDirty(prop);
  }

  /** Sets the top-level field at `index` of `fields.props` (the value already copied and checked): {@link write} without a closure, for the proxy's hot path. */
  assign(index: number, prop: string, value: unknown): void {
    this.assertUsable();
    this.host.beforeWrite(this, prop);
    this.target[prop] = value;
    this.markDirtyAt(index, prop);
  }

  /** The encoding the store last saw for the field at `index` of `fields.props`. */
  committedTextAt(index: number): string | undefined {
    return this.committed?.[index];
  }

  private setCommitted(prop: string, text: string): void {
    const i = this.fields.indexOf(prop);
    if (i < 0) return;
    (this.committed ??= new Array<string | undefined>(this.fields.props.length))[i] = text;
  }

  /** Who holds the turn, if anyone. */
  get holder(): LockHolder | undefined {
    const turn = this.turn;
    return turn instanceof ObjectLock ? turn.holder : turn;
  }

  /** Whether `holder` holds the turn and nobody waits for it: the first check of a write in a call. */
  heldAlone(holder: LockHolder): boolean {
    return this.turn === holder;
  }

  /** Takes the turn now if it is free; never waits. */
  tryHold(holder: LockHolder): boolean {
    const turn = this.turn;
    if (turn === undefined) {
      this.turn = holder;
      return true;
    }
    return turn instanceof ObjectLock && turn.tryAcquire(holder);
  }

  /** The lock to wait on: made when first needed, with the current holder moved into it. */
  ensureLock(): ObjectLock {
    const turn = this.turn;
    if (turn instanceof ObjectLock) return turn;
    const lock = new ObjectLock();
    if (turn !== undefined) lock.tryAcquire(turn);
    this.turn = lock;
    return lock;
  }

  /** Releases the turn and drops the lock object when nobody waits. */
  releaseLock(holder: object): void {
    const turn = this.turn;
    if (turn === holder) this.turn = undefined;
    else if (turn instanceof ObjectLock && turn.release(holder)) this.turn = undefined;
  }

  /** True while someone holds the turn or waits to take it. */
  get locked(): boolean {
    const turn = this.turn;
    return turn !== undefined && (!(turn instanceof ObjectLock) || turn.locked);
  }

  location(path: string): ValueLocation {
    return { clsId: this.key.clsId, objectId: this.key.objectId, field: path };
  }
}
