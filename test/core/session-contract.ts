/**
 * The session conformance suite: one set of scenarios every kind of unit of
 * work runs (auto sessions, the manual API, scopes), so they keep the same
 * promises: nothing is written before the commit, the commit writes all of
 * the unit and nothing of another unit, and what a failure leaves behind is
 * what the kind says it leaves.
 */
import { describe, expect, it } from 'vitest';
import { ObjectNotFoundError, StoreError, getAutoSessionManager } from '../../src/index.js';
import { RecordingStore, entryValue } from '../support/recording-store.js';
import { freshRuntime, tempSqlite } from '../support/runtime.js';
import { Counter } from '../support/services.js';

/** One open unit of work, as a kind's adapter drives it. */
export interface Unit {
  /** Creates a Counter with `count` in this unit. */
  create(id: string, count: number): Promise<Counter>;
  /** Loads a Counter into this unit. */
  load(id: string): Promise<Counter>;
  /** Runs `fn` as part of this unit (method calls and writes on its objects). */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
  /** Deletes an object in this unit. */
  delete(counter: Counter): Promise<void>;
  /** Commits what the unit did (a scope ends with it); rejects with the commit's error. */
  commit(): Promise<void>;
  /** Ends the unit with `error` (only kinds that can undo a whole unit); resolves with what it rejected with. */
  abort(error: Error): Promise<unknown>;
}

/** What a kind's adapter hands the suite. */
export interface UnitKind {
  readonly name: string;
  /** What a failed commit leaves: the changes, pending for the next commit, or nothing (the unit is rolled back). */
  readonly failedCommit: 'keeps-pending' | 'rolls-back';
  /** Whether the unit can be ended with an error that undoes all it did. */
  readonly abortable: boolean;
  /** Opens a unit on the current runtime. */
  open(): Promise<Unit>;
}

const keyOf = (objectId: string) => ({ clsId: 'test.Counter', partitionId: 0, objectId });
const transient = () => new StoreError('connection reset', { transient: true });

/**
 * Runs functions one at a time inside the async context `enter` opens (a
 * `runInSession`, a `sessionScope`), until `finish()` or `fail()` ends it:
 * the way a test steps through one context's work from outside it.
 */
export class ContextWorker {
  private readonly mailbox: Step[] = [];
  private wake: (() => void) | undefined;
  /** Settles as `enter` does, once the worker has been ended. */
  readonly ended: Promise<unknown>;

  constructor(enter: (loop: () => Promise<void>) => Promise<unknown>) {
    this.ended = enter(() => this.loop());
    this.ended.catch(() => undefined); // whoever ends the worker reads the outcome
  }

  run<T>(fn: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.post({ kind: 'run', fn, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Lets `enter`'s function return; resolves or rejects as `enter` settles. */
  finish(): Promise<unknown> {
    this.post({ kind: 'finish' });
    return this.ended;
  }

  /** Makes `enter`'s function throw `error`; resolves or rejects as `enter` settles. */
  fail(error: Error): Promise<unknown> {
    this.post({ kind: 'fail', error });
    return this.ended;
  }

  private post(step: Step): void {
    this.mailbox.push(step);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Runs inside the context: each step's continuation keeps it. */
  private async loop(): Promise<void> {
    for (;;) {
      while (this.mailbox.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
      const step = this.mailbox.shift()!;
      if (step.kind === 'finish') return;
      if (step.kind === 'fail') throw step.error;
      try {
        step.resolve(await step.fn());
      } catch (error) {
        step.reject(error);
      }
    }
  }
}

type Step =
  | { kind: 'run'; fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }
  | { kind: 'finish' }
  | { kind: 'fail'; error: Error };

/** Registers the session contract for one kind of unit of work. */
export function describeSessionContract(kind: UnitKind): void {
  describe(`session contract: ${kind.name}`, () => {
    it('writes nothing before the commit, and what it created and changed in one batch at the commit', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const unit = await kind.open();
      const c = await unit.create('created', 2);
      await unit.run(() => c.increment(3));
      expect(store.batches).toHaveLength(0);
      await unit.commit();
      expect(store.batches).toHaveLength(1);
      expect(store.batches[0]!.map((op) => `${op.kind}:${op.key.objectId}`)).toEqual(['put:created']);
      const stored = await store.get(keyOf('created'));
      expect(stored?.version).toBe(1);
      expect(entryValue(stored, 'count')).toBe(5);
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    });

    it('commits changes to a loaded object, and a new runtime reads them back', async () => {
      const store = tempSqlite();
      await freshRuntime({ store });
      const first = await kind.open();
      await first.create('kept', 1);
      await first.commit();
      const second = await kind.open();
      const c = await second.load('kept');
      await second.run(() => c.increment(10));
      await second.commit();
      // Nothing is left for the shutdown flush: what the new runtime reads is what the commit wrote.
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
      await freshRuntime({ store });
      const reloaded = await Counter.load('kept');
      expect(reloaded.count).toBe(11);
      expect(reloaded.version).toBe(2);
    });

    it('deletes an object: the commit removes it from the store, and a new runtime cannot load it', async () => {
      const store = tempSqlite();
      await freshRuntime({ store });
      const first = await kind.open();
      await first.create('doomed', 1);
      await first.commit();
      const second = await kind.open();
      const c = await second.load('doomed');
      await second.delete(c);
      await second.commit();
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
      await freshRuntime({ store });
      await expect(Counter.load('doomed')).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('keeps two units apart: committing one writes none of the other`s changes', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const mine = await kind.open();
      const theirs = await kind.open();
      await mine.create('mine', 1);
      await theirs.create('theirs', 2);
      await mine.commit();
      expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['mine']);
      expect(getAutoSessionManager().pendingObjectCount).toBe(1);
      await theirs.commit();
      expect(store.batches.flat().map((op) => op.key.objectId)).toEqual(['mine', 'theirs']);
      expect(entryValue(await store.get(keyOf('theirs')), 'count')).toBe(2);
    });

    it('undoes the changes of a method that fails, and commits the unit`s other changes', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const unit = await kind.open();
      const c = await unit.create('partial', 1);
      await unit.run(() => c.increment(1));
      const failure = await unit.run(() => c.incrementThenFail(100).catch((error: unknown) => error));
      expect(failure).toBeInstanceOf(RangeError);
      expect(await unit.run(() => c.count)).toBe(2);
      await unit.commit();
      expect(entryValue(await store.get(keyOf('partial')), 'count')).toBe(2);
      expect(entryValue(await store.get(keyOf('partial')), 'history')).toEqual([1]);
    });

    // Only the cases that apply to this kind of unit of work are registered, so none is reported as skipped.
    if (kind.abortable) it('undoes everything a unit ended by an error did, and writes nothing', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const setup = await kind.open();
      await setup.create('before', 1);
      await setup.commit();
      store.batches.length = 0;
      const unit = await kind.open();
      const c = await unit.load('before');
      await unit.run(() => c.increment(5));
      await unit.create('never', 1);
      const stop = new Error('stop');
      expect(await unit.abort(stop)).toBe(stop);
      expect(store.batches).toHaveLength(0);
      expect(c.count).toBe(1);
      await expect(Counter.load('never')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    });

    if (kind.failedCommit === 'keeps-pending') it('keeps the changes of a failed commit pending, and the next commit writes them', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const unit = await kind.open();
      const c = await unit.create('retried', 1);
      await unit.run(() => c.increment(2));
      store.failNext(1, transient);
      await expect(unit.commit()).rejects.toBeInstanceOf(StoreError);
      expect(store.batches).toHaveLength(0);
      expect(getAutoSessionManager().pendingObjectCount).toBe(1);
      expect(await unit.run(() => c.count)).toBe(3);
      await unit.commit();
      expect(entryValue(await store.get(keyOf('retried')), 'count')).toBe(3);
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    });

    if (kind.failedCommit === 'rolls-back') it('rolls the unit back when its commit fails, leaving nothing pending', async () => {
      const store = new RecordingStore();
      await freshRuntime({ store });
      const setup = await kind.open();
      await setup.create('existing', 1);
      await setup.commit();
      store.batches.length = 0;
      const unit = await kind.open();
      const c = await unit.load('existing');
      await unit.run(() => c.increment(2));
      await unit.create('rolled-back', 1);
      store.failNext(1, transient);
      await expect(unit.commit()).rejects.toBeInstanceOf(StoreError);
      expect(store.batches).toHaveLength(0);
      expect(c.count).toBe(1);
      await expect(Counter.load('rolled-back')).rejects.toBeInstanceOf(ObjectNotFoundError);
      expect(getAutoSessionManager().pendingObjectCount).toBe(0);
    });
  });
}
