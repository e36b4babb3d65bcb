// Matching a committed change or a finished call to the targets it fires.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OaasObject, field, method, service } from '../../src/index.js';
import type { TriggerTarget } from '../../src/index.js';
import { findClassMeta } from '../../src/registry/registry.js';
import { dataTargets, functionTargets, hasTriggers } from '../../src/triggers/match.js';
import { resolveTriggers, type ResolvedTarget } from '../../src/triggers/resolve-triggers.js';

@service('Sink', { package: 'match' })
class Sink extends OaasObject {
  @method({ stateless: true }) async a(): Promise<void> {}
  @method({ stateless: true }) async b(): Promise<void> {}
  @method({ stateless: true }) async c(): Promise<void> {}
  @method() async d(): Promise<void> {}
}

const to = (m: string, extra: Partial<TriggerTarget> = {}): TriggerTarget => ({ cls: 'Sink', method: m, ...extra });
const hit = (m: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget => ({ clsId: 'match.Sink', method: m, objectId: undefined, partitionId: undefined, ...extra });

@service('Doc', { package: 'match', onCreate: [to('a')], onUpdate: [to('a'), to('d', { objectId: 'log' })], onDelete: [to('c')] })
class Doc extends OaasObject {
  @field({ key: 'heading', onCreate: [to('b')], onUpdate: [to('b'), to('a')], onDelete: [to('c'), to('b')] }) title = '';
  @field({ onUpdate: [to('c'), to('c', { partitionId: 1 })] }) body = '';
  @field({ onUpdate: [to('d', { objectId: 'log' }), to('d', { objectId: 'other' })] }) tags: string[] = [];
  plain = 0;

  @method({ onComplete: [to('a'), to('b'), to('a')], onError: [to('c')] })
  async publish(): Promise<void> {}

  @method({ name: 'un_publish', onError: [to('d', { objectId: 'log' })] })
  async unpublish(): Promise<void> {}

  @method()
  async touch(): Promise<void> {}
}

const resolved = resolveTriggers(findClassMeta(Doc)!);

describe('dataTargets', () => {
  it('fires class-level targets first, then those of each changed field by its stored key, each distinct target once', () => {
    // `a` is declared on the class and on `heading`: listed once, in the class's place.
    expect(dataTargets(resolved, 'update', ['heading'])).toEqual([hit('a'), hit('d', { objectId: 'log' }), hit('b')]);
    // Targets differing only in partition or object id are distinct.
    expect(dataTargets(resolved, 'update', ['body', 'tags'])).toEqual([hit('a'), hit('d', { objectId: 'log' }), hit('c'), hit('c', { partitionId: 1 }), hit('d', { objectId: 'other' })]);
  });

  it('matches a field by the key it is stored under, not by its property name', () => {
    expect(dataTargets(resolved, 'update', ['title'])).toEqual([hit('a'), hit('d', { objectId: 'log' })]);
  });

  it('fires only the class-level targets when no field with triggers changed', () => {
    expect(dataTargets(resolved, 'update', ['plain'])).toEqual([hit('a'), hit('d', { objectId: 'log' })]);
    expect(dataTargets(resolved, 'update', [])).toEqual([hit('a'), hit('d', { objectId: 'log' })]);
  });

  it('treats every field as changed on create and delete', () => {
    expect(dataTargets(resolved, 'create', [])).toEqual([hit('a'), hit('b')]);
    expect(dataTargets(resolved, 'create', ['plain'])).toEqual([hit('a'), hit('b')]);
    expect(dataTargets(resolved, 'delete', [])).toEqual([hit('c'), hit('b')]);
  });

  it('fires nothing for a class without triggers', () => {
    const quiet = resolveTriggers(findClassMeta(Sink)!);
    for (const kind of ['create', 'update', 'delete'] as const) expect(dataTargets(quiet, kind, ['x'])).toEqual([]);
  });

  it('returns a new list each time: a caller may change it', () => {
    const first = dataTargets(resolved, 'create', []);
    first.pop();
    expect(dataTargets(resolved, 'create', [])).toHaveLength(2);
  });

  it('refuses a kind or changed keys it does not know', () => {
    for (const kind of ['created', 'UPDATE', '', undefined, 1]) {
      expect(() => dataTargets(resolved, kind as never, [])).toThrow(InvalidArgumentError);
    }
    expect(() => dataTargets(resolved, 'upsert' as never, [])).toThrow(`kind: expected 'create', 'update' or 'delete', got "upsert"`);
    for (const keys of [undefined, 'heading', new Set(['heading'])]) {
      expect(() => dataTargets(resolved, 'update', keys as never)).toThrow('changedKeys: expected an array of entry keys');
    }
  });
});

describe('functionTargets', () => {
  it('fires the targets of the outcome, each distinct target once, by invocation name', () => {
    expect(functionTargets(resolved, 'publish', 'complete')).toEqual([hit('a'), hit('b')]);
    expect(functionTargets(resolved, 'publish', 'error')).toEqual([hit('c')]);
    expect(functionTargets(resolved, 'un_publish', 'error')).toEqual([hit('d', { objectId: 'log' })]);
    expect(functionTargets(resolved, 'un_publish', 'complete')).toEqual([]);
  });

  it('fires nothing for a method without triggers, or a name that is not a method', () => {
    expect(functionTargets(resolved, 'touch', 'complete')).toEqual([]);
    expect(functionTargets(resolved, 'unpublish', 'error')).toEqual([]);
  });

  it('refuses a method name or an outcome it does not know', () => {
    expect(() => functionTargets(resolved, '', 'complete')).toThrow('methodName: expected a method name');
    expect(() => functionTargets(resolved, undefined as never, 'complete')).toThrow(InvalidArgumentError);
    expect(() => functionTargets(resolved, 'publish', 'completed' as never)).toThrow(`outcome: expected 'complete' or 'error', got "completed"`);
    expect(() => functionTargets(resolved, 'publish', undefined as never)).toThrow(InvalidArgumentError);
  });
});

describe('hasTriggers', () => {
  it('is true for a class with triggers and false without', () => {
    expect(hasTriggers(findClassMeta(Doc)!)).toBe(true);
    expect(hasTriggers(findClassMeta(Sink)!)).toBe(false);
  });

  it('refuses something that is not class metadata', () => {
    for (const bad of [undefined, null, {}, 'match.Doc']) expect(() => hasTriggers(bad as never)).toThrow(InvalidArgumentError);
  });
});
