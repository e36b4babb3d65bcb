import { describe, expectTypeOf, it } from 'vitest';
import type {
  OaasObject} from '../../src/index.js';
import {
  type CommitResult,
  type ObjectRef,
  type Session,
  type StateInit,
  type StateOf,
  currentSession,
  sessionScope,
} from '../../src/index.js';
import { Counter } from '../support/services.js';

// Type-level checks of the public API, compiled by vitest in typecheck mode (see vitest.config.ts).
describe('public types', () => {
  it('derives state types from the class', () => {
    expectTypeOf<StateOf<Counter>>().toEqualTypeOf<{ count: number; history: number[] }>();
    expectTypeOf<StateInit<Counter>>().toEqualTypeOf<{ count?: number; history?: number[] }>();
  });

  it('types create, load and methods from the class', () => {
    const create = () => Counter.create({ count: 1 });
    const load = () => Counter.load('c');
    expectTypeOf(create).returns.toEqualTypeOf<Counter>();
    expectTypeOf(load).returns.toEqualTypeOf<Promise<Counter>>();
    expectTypeOf<Counter['increment']>().returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf<Counter['asRef']>().returns.toEqualTypeOf<ObjectRef>();
    expectTypeOf<OaasObject['version']>().toEqualTypeOf<number>();
  });

  it('types sessions and scopes', () => {
    expectTypeOf(currentSession).returns.toEqualTypeOf<Session>();
    expectTypeOf<Session['commit']>().returns.toEqualTypeOf<Promise<CommitResult>>();
    expectTypeOf(sessionScope(() => 42)).toEqualTypeOf<Promise<number>>();
    expectTypeOf<Session['pendingCount']>().toEqualTypeOf<number>();
  });
});
