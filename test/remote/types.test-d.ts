// Type-level checks of the remote client, compiled by vitest in typecheck mode (see vitest.config.ts).
import { describe, expectTypeOf, it } from 'vitest';
import type { OaasClient, RemoteRef } from '../../src/client/types.js';
import type { ObjectListing, ObjectState } from '../../src/invocation/gateway.js';
import type { OaasObject } from '../../src/object/oaas-object.js';
import type { Counter } from './fixtures/services.js';

describe('remote client types', () => {
  it('maps methods to Promises of their awaited results, and async * methods to async iterables', () => {
    type Ref = RemoteRef<Counter>;
    expectTypeOf<Ref['increment']>().toEqualTypeOf<(by?: number) => Promise<number>>();
    expectTypeOf<Ref['add']>().toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf<Ref['noop']>().toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<Ref['fail']>().toEqualTypeOf<(message: string) => Promise<never>>();
    expectTypeOf<Ref['progress']>().toEqualTypeOf<(steps: number, delayMs?: number) => AsyncIterable<number>>();
    expectTypeOf<Ref['failing']>().returns.toEqualTypeOf<AsyncIterable<number>>();
  });

  it('includes accessors, and leaves out state, OaasObject members and _-prefixed names', () => {
    type Ref = RemoteRef<Counter>;
    expectTypeOf<Ref['getCount']>().toEqualTypeOf<() => Promise<number>>();
    expectTypeOf<Ref['getName']>().toEqualTypeOf<() => Promise<{ name: string }>>();
    expectTypeOf<Ref['setCount']>().toEqualTypeOf<(value: number) => Promise<void>>();
    expectTypeOf<Ref>().not.toHaveProperty('count');
    expectTypeOf<Ref>().not.toHaveProperty('history');
    expectTypeOf<Ref>().not.toHaveProperty('_internal');
    expectTypeOf<Ref>().not.toHaveProperty('checkpoint');
    expectTypeOf<Ref>().not.toHaveProperty('delete');
    expectTypeOf<Ref>().not.toHaveProperty('asRef');
    expectTypeOf<Ref>().not.toHaveProperty('id');
    expectTypeOf<Ref>().not.toHaveProperty('version');
  });

  it('types the client calls', () => {
    expectTypeOf<OaasClient['ref']>().returns.toEqualTypeOf<RemoteRef<OaasObject>>();
    expectTypeOf<ReturnType<OaasClient['get']>>().toEqualTypeOf<Promise<ObjectState>>();
    expectTypeOf<ReturnType<OaasClient['list']>>().toEqualTypeOf<Promise<ObjectListing>>();
    expectTypeOf<ReturnType<OaasClient['delete']>>().toEqualTypeOf<Promise<void>>();
    const ref = (client: OaasClient) => client.ref({} as unknown as typeof Counter, 'c1');
    expectTypeOf(ref).returns.toEqualTypeOf<RemoteRef<Counter>>();
    expectTypeOf(ref).returns.toHaveProperty('increment');
  });
});
