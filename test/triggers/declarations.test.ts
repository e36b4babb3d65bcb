// Declaring triggers: what `@service`, `@field` and `@method` record, and the shapes they refuse when the class registers.
import { describe, expect, it } from 'vitest';
import { OaasObject, Oparaca, RegistrationError, field, method, service, transient } from '../../src/index.js';
import type { TriggerTarget } from '../../src/index.js';
import { findClassMeta } from '../../src/registry/registry.js';
import { hasTriggers } from '../../src/triggers/match.js';

@service('Audit', { package: 'decl' })
class Audit extends OaasObject {
  @method({ stateless: true })
  async record(): Promise<void> {}
}

const toAudit: TriggerTarget = { cls: 'Audit', method: 'record' };
const audit = () => Audit;

function metaOf(cls: unknown) {
  const meta = findClassMeta(cls);
  if (meta === undefined) throw new Error('not registered');
  return meta;
}

/** The error the class decorator throws for a declaration, with its message. */
function refusal(declare: () => unknown): RegistrationError {
  try {
    declare();
  } catch (error) {
    expect(error).toBeInstanceOf(RegistrationError);
    expect((error as RegistrationError).code).toBe('OAAS_ERR_REGISTRY_CONFLICT');
    return error as RegistrationError;
  }
  throw new Error('the declaration was accepted');
}

describe('trigger declarations', () => {
  it('records class, field and method triggers, object ids made canonical', () => {
    @service('Order', { package: 'decl', onCreate: [toAudit], onDelete: [{ cls: audit, method: 'record', partitionId: 3 }] })
    class Order extends OaasObject {
      @field({ key: 'state', onUpdate: [{ cls: 'decl.Audit', method: 'record', objectId: 42 }] }) status = 'new';
      @field() note = '';
      total = 0;

      @method({ onComplete: [toAudit], onError: [{ cls: 'Audit', method: 'record', objectId: 'errors' }] })
      async pay(): Promise<void> {}

      @method({ name: 'cancel_order', onError: [toAudit] })
      async cancel(): Promise<void> {}

      @method()
      async plain(): Promise<void> {}
    }
    const { triggers } = metaOf(Order);
    expect(triggers.data).toEqual({
      onCreate: [{ cls: 'Audit', method: 'record', objectId: undefined, partitionId: undefined }],
      onUpdate: [],
      onDelete: [{ cls: audit, method: 'record', objectId: undefined, partitionId: 3 }],
    });
    // Keyed by property; the number became the canonical string id.
    expect([...triggers.fields.keys()]).toEqual(['status']);
    expect(triggers.fields.get('status')?.onUpdate).toEqual([{ cls: 'decl.Audit', method: 'record', objectId: '42', partitionId: undefined }]);
    // Keyed by invocation name; methods without triggers are absent.
    expect([...triggers.functions.keys()]).toEqual(['pay', 'cancel_order']);
    expect(triggers.functions.get('pay')?.onError).toEqual([{ cls: 'Audit', method: 'record', objectId: 'errors', partitionId: undefined }]);
    expect(triggers.functions.get('cancel_order')).toEqual({ onComplete: [], onError: [{ cls: 'Audit', method: 'record', objectId: undefined, partitionId: undefined }] });
  });

  it('records nothing for a class without triggers, and hasTriggers tells each kind apart', () => {
    @service('Quiet', { package: 'decl' })
    class Quiet extends OaasObject {
      @field({ key: 'k' }) n = 0;
      @method() async run(): Promise<void> {}
    }
    @service('OnClass', { package: 'decl', onUpdate: [toAudit] })
    class OnClass extends OaasObject {}
    @service('OnField', { package: 'decl' })
    class OnField extends OaasObject {
      @field({ onDelete: [toAudit] }) n = 0;
    }
    @service('OnMethod', { package: 'decl' })
    class OnMethod extends OaasObject {
      @method({ onComplete: [toAudit] }) async run(): Promise<void> {}
    }
    // Empty lists declare nothing.
    @service('EmptyLists', { package: 'decl', onCreate: [], onUpdate: undefined })
    class EmptyLists extends OaasObject {
      @method({ onError: [] }) async run(): Promise<void> {}
    }
    expect(metaOf(Quiet).triggers).toEqual({ data: undefined, fields: new Map(), functions: new Map() });
    expect([Quiet, OnClass, OnField, OnMethod, EmptyLists].map((cls) => hasTriggers(metaOf(cls)))).toEqual([false, true, true, true, false]);
  });

  it('inherits field and method triggers; an override declared again with @method replaces them', () => {
    abstract class Base extends OaasObject {
      @field({ onUpdate: [toAudit] }) status = '';
      @method({ onComplete: [toAudit] }) async pay(): Promise<void> {}
      @method({ onError: [toAudit] }) async refund(): Promise<void> {}
    }
    @service('Child', { package: 'decl' })
    class Child extends Base {
      @method() override async refund(): Promise<void> {}
    }
    const { triggers } = metaOf(Child);
    expect([...triggers.fields.keys()]).toEqual(['status']);
    expect([...triggers.functions.keys()]).toEqual(['pay']);
  });

  it('takes triggers through the manual API’s func()', () => {
    const Legacy = new Oparaca().newCls('LegacyOrder', 'decl');
    @Legacy
    class LegacyOrder extends OaasObject {
      @Legacy.func({ onComplete: [toAudit] })
      async pay(): Promise<void> {}
    }
    expect(metaOf(LegacyOrder).triggers.functions.get('pay')?.onComplete).toHaveLength(1);
  });
});

describe('malformed trigger declarations', () => {
  // Each is refused when the class registers, naming the class, the member and the position.
  const cases: readonly [string, () => unknown, RegExp][] = [
    [
      'a list that is not an array',
      () => service('B1', { package: 'decl', onCreate: toAudit as never })(class extends OaasObject {}),
      /^service decl\.B1: onCreate: expected an array of trigger targets, got an Object$/,
    ],
    ['a target that is not an object', () => service('B2', { package: 'decl', onUpdate: ['Audit.record' as never] })(class extends OaasObject {}), /^service decl\.B2: onUpdate\[0\]: a trigger target must be an object/],
    ['a null target', () => service('B3', { package: 'decl', onDelete: [toAudit, null as never] })(class extends OaasObject {}), /^service decl\.B3: onDelete\[1\]: a trigger target must be an object .*got null$/],
    ['an array as a target', () => service('B4', { package: 'decl', onCreate: [[] as never] })(class extends OaasObject {}), /^service decl\.B4: onCreate\[0\]: a trigger target must be an object .*got an array$/],
    ['an unknown key', () => service('B5', { package: 'decl', onCreate: [{ ...toAudit, fn: 'x' } as never] })(class extends OaasObject {}), /^service decl\.B5: onCreate\[0\]: unknown key fn; a trigger target has cls, method, objectId and partitionId$/],
    ['a missing method', () => service('B6', { package: 'decl', onCreate: [{ cls: 'Audit' } as never] })(class extends OaasObject {}), /^service decl\.B6: onCreate\[0\]\.method: expected a method name, got undefined$/],
    ['an empty method', () => service('B7', { package: 'decl', onCreate: [{ cls: 'Audit', method: '' }] })(class extends OaasObject {}), /^service decl\.B7: onCreate\[0\]\.method: expected a method name, got ""$/],
    ['a missing class', () => service('B8', { package: 'decl', onCreate: [{ method: 'record' } as never] })(class extends OaasObject {}), /^service decl\.B8: onCreate\[0\]\.cls: expected a class id or a function returning a @service class, got undefined$/],
    ['a class id of the wrong shape', () => service('B9', { package: 'decl', onCreate: [{ cls: 'no such/class', method: 'record' }] })(class extends OaasObject {}), /^service decl\.B9: onCreate\[0\]\.cls: "no such\/class" is not a class id/],
    ['a class passed without a function', () => service('B10', { package: 'decl', onCreate: [{ cls: Audit as never, method: 'record' }] })(class extends OaasObject {}), /^service decl\.B10: onCreate\[0\]\.cls: pass the class as a function returning it, cls: \(\) => Audit$/],
    ['an object id of the wrong shape', () => service('B11', { package: 'decl', onCreate: [{ ...toAudit, objectId: 'Not Valid' }] })(class extends OaasObject {}), /^service decl\.B11: onCreate\[0\]\.objectId: object id "Not Valid" must match/],
    ['an object id of the wrong type', () => service('B12', { package: 'decl', onCreate: [{ ...toAudit, objectId: true as never }] })(class extends OaasObject {}), /^service decl\.B12: onCreate\[0\]\.objectId: object id must be a string or a number, got boolean$/],
    ['a negative partition', () => service('B13', { package: 'decl', onCreate: [{ ...toAudit, partitionId: -1 }] })(class extends OaasObject {}), /^service decl\.B13: onCreate\[0\]\.partitionId: must be an integer from 0 to 2147483647, got -1$/],
    ['a fractional partition', () => service('B14', { package: 'decl', onCreate: [{ ...toAudit, partitionId: 1.5 }] })(class extends OaasObject {}), /^service decl\.B14: onCreate\[0\]\.partitionId: must be an integer/],
    ['a partition given as text', () => service('B15', { package: 'decl', onCreate: [{ ...toAudit, partitionId: '0' as never }] })(class extends OaasObject {}), /^service decl\.B15: onCreate\[0\]\.partitionId: must be an integer .*got "0"$/],
  ];

  it.each(cases)('refuses %s on @service', (_name, declare, message) => {
    expect(refusal(declare).message).toMatch(message);
  });

  it('refuses a malformed field trigger, naming the field', () => {
    const error = refusal(() => {
      @service('BadField', { package: 'decl' })
      class BadField extends OaasObject {
        @field({ onUpdate: [toAudit, { cls: 'Audit', method: 7 as never }] }) status = '';
      }
      return BadField;
    });
    expect(error.message).toBe('service decl.BadField, @field status: onUpdate[1].method: expected a method name, got 7');
  });

  it('refuses a malformed method trigger, naming the method', () => {
    const error = refusal(() => {
      @service('BadMethod', { package: 'decl' })
      class BadMethod extends OaasObject {
        @method({ name: 'pay_now', onError: { cls: 'Audit', method: 'record' } as never }) async pay(): Promise<void> {}
      }
      return BadMethod;
    });
    expect(error.message).toBe('service decl.BadMethod, @method pay: onError: expected an array of trigger targets, got an Object');
  });

  it('refuses data triggers on a field that is never stored', () => {
    const transientField = refusal(() => {
      @service('TransientTrigger', { package: 'decl' })
      class TransientTrigger extends OaasObject {
        @transient() @field({ onUpdate: [toAudit] }) cache = '';
      }
      return TransientTrigger;
    });
    expect(transientField.message).toBe('service decl.TransientTrigger, @field cache: a field that is not stored (transient or _-prefixed) cannot have data triggers');
    const privateField = refusal(() => {
      @service('PrivateTrigger', { package: 'decl' })
      class PrivateTrigger extends OaasObject {
        @field({ onUpdate: [toAudit] }) _scratch = '';
      }
      return PrivateTrigger;
    });
    expect(privateField.message).toMatch(/^service decl\.PrivateTrigger, @field _scratch: a field that is not stored/);
  });

  it('registers nothing when a trigger is refused', () => {
    class Refused extends OaasObject {}
    refusal(() => service('Refused', { package: 'decl', onCreate: [{ cls: 'Audit', method: '' }] })(Refused));
    expect(findClassMeta(Refused)).toBeUndefined();
    // The id stays free for a correct declaration.
    service('Refused', { package: 'decl' })(Refused);
    expect(findClassMeta(Refused)?.clsId).toBe('decl.Refused');
  });
});
