// Type-level checks of trigger declarations, compiled by vitest in typecheck mode.
import { describe, expectTypeOf, it } from 'vitest';
import { OaasObject, type FieldOptions, type MethodOptions, type ServiceOptions, type TriggerTarget } from '../../src/index.js';

class Audit extends OaasObject {}

describe('trigger target types', () => {
  it('takes a class id or a function returning a class, an optional object id and partition', () => {
    expectTypeOf<TriggerTarget>({ cls: 'shop.Audit', method: 'record' });
    expectTypeOf<TriggerTarget>({ cls: () => Audit, method: 'record', objectId: 7, partitionId: 1 });
    expectTypeOf<TriggerTarget>({ cls: 'Audit', method: 'record', objectId: 'a1' });
    // @ts-expect-error a class must come wrapped in a function
    expectTypeOf<TriggerTarget>({ cls: Audit, method: 'record' });
    // @ts-expect-error the method is required
    expectTypeOf<TriggerTarget>({ cls: 'Audit' });
    // @ts-expect-error an object id is a string or a number
    expectTypeOf<TriggerTarget>({ cls: 'Audit', method: 'record', objectId: true });
    // @ts-expect-error no other keys
    expectTypeOf<TriggerTarget>({ cls: 'Audit', method: 'record', fn: 'x' });
  });

  it('puts data triggers on @service and @field, function triggers on @method', () => {
    expectTypeOf<ServiceOptions['onCreate']>().toEqualTypeOf<readonly TriggerTarget[] | undefined>();
    expectTypeOf<FieldOptions['onUpdate']>().toEqualTypeOf<readonly TriggerTarget[] | undefined>();
    expectTypeOf<MethodOptions['onError']>().toEqualTypeOf<readonly TriggerTarget[] | undefined>();
    expectTypeOf<MethodOptions>().not.toHaveProperty('onCreate');
    expectTypeOf<FieldOptions>().not.toHaveProperty('onComplete');
  });
});
