// Type-level checks of the change-event API, compiled by vitest in typecheck mode.
import { describe, expectTypeOf, it } from 'vitest';
import { watch, type ChangeEvent, type GapEvent, type ObjectRef, type OaasClient, type RemoteWatchEvent, type Unwatch, type WatchEvent } from '../../src/index.js';
import { Counter } from '../support/services.js';

describe('watch types', () => {
  it('narrows events by kind and returns a stop function with ready', () => {
    const stop = watch(Counter, (event) => {
      expectTypeOf(event).toEqualTypeOf<WatchEvent>();
      if (event.kind === 'gap') expectTypeOf(event).toEqualTypeOf<GapEvent>();
      else {
        expectTypeOf(event).toEqualTypeOf<ChangeEvent>();
        expectTypeOf(event.ref).toEqualTypeOf<ObjectRef>();
        expectTypeOf(event.changed).toEqualTypeOf<readonly string[]>();
      }
    });
    expectTypeOf(stop).toEqualTypeOf<Unwatch>();
    expectTypeOf(stop.ready).toEqualTypeOf<Promise<void>>();
    // @ts-expect-error a listener takes an event, not a number
    watch(Counter, (n: number) => n);
    // @ts-expect-error a target is an object, a class or a class id
    watch(42, () => undefined);
  });

  it('gives the client async iterables of wire events', () => {
    expectTypeOf<OaasClient['watch']>().returns.toEqualTypeOf<AsyncIterable<RemoteWatchEvent>>();
    expectTypeOf<OaasClient['watchClass']>().returns.toEqualTypeOf<AsyncIterable<RemoteWatchEvent>>();
  });
});
