// Triggers in the package document: each class's event section, in the field names of Oparaca's ObjectEvent.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OaasObject, RegistrationError, field, method, service } from '../../src/index.js';
import { CLASS_TRIGGER_KEY, buildPackageDocument, exportPackage } from '../../src/package/package-export.js';

@service('Shipment', { package: 'shop', onCreate: [{ cls: 'Audit', method: 'record' }], onDelete: [{ cls: () => Warehouse, method: 'release', objectId: 'main', partitionId: 4 }] })
class Shipment extends OaasObject {
  @field({ key: 'state', onUpdate: [{ cls: 'shop.Audit', method: 'record', partitionId: 0 }] }) status = 'new';
  weight = 0;

  @method({ onComplete: [{ cls: () => Warehouse, method: 'release', objectId: 12 }], onError: [{ cls: 'Audit', method: 'record' }] })
  async dispatch(): Promise<void> {}

  @method({ onComplete: [{ cls: 'Audit', method: 'record' }] })
  async _retry(): Promise<void> {}
}

@service('Warehouse', { package: 'shop' })
class Warehouse extends OaasObject {
  @method() async release(): Promise<void> {}
}

@service('Audit', { package: 'shop' })
class Audit extends OaasObject {
  @method({ stateless: true }) async record(): Promise<void> {}
}

// Only a private method has triggers: nothing of them is exported.
@service('Quietly', { package: 'shop' })
class Quietly extends OaasObject {
  @method({ onError: [{ cls: 'Audit', method: 'record' }] }) async _work(): Promise<void> {}
}

describe('the event section of the package document', () => {
  it('lists a class’s triggers as func_trigger by function name and data_trigger by entry key', () => {
    const document = buildPackageDocument({ classes: [Shipment, Warehouse, Audit] });
    const [shipment, warehouse, audit] = document.classes;
    expect(shipment?.event).toEqual({
      func_trigger: {
        dispatch: {
          on_complete: [{ cls_id: 'shop.Warehouse', fn_id: 'release', object_id: '12' }],
          on_error: [{ cls_id: 'shop.Audit', fn_id: 'record' }],
        },
      },
      data_trigger: {
        [CLASS_TRIGGER_KEY]: {
          on_create: [{ cls_id: 'shop.Audit', fn_id: 'record' }],
          on_update: [],
          on_delete: [{ cls_id: 'shop.Warehouse', partition_id: 4, fn_id: 'release', object_id: 'main' }],
        },
        state: { on_create: [], on_update: [{ cls_id: 'shop.Audit', partition_id: 0, fn_id: 'record' }], on_delete: [] },
      },
    });
    expect(CLASS_TRIGGER_KEY).toBe('*');
    // Classes without triggers get no section, so existing documents do not change.
    expect(warehouse).not.toHaveProperty('event');
    expect(audit).not.toHaveProperty('event');
  });

  it('leaves out a private method’s triggers, and the section when nothing else is left', () => {
    const [shipment, quietly] = buildPackageDocument({ classes: [Shipment, Quietly] }).classes;
    expect(Object.keys(shipment?.event?.func_trigger ?? {})).toEqual(['dispatch']);
    expect(quietly).not.toHaveProperty('event');
  });

  it('writes the same section in YAML and JSON', () => {
    const yaml = parse(exportPackage({ classes: [Shipment, Warehouse, Audit] })) as { classes: { event?: unknown }[] };
    const json = JSON.parse(exportPackage({ classes: [Shipment, Warehouse, Audit], format: 'json' })) as { classes: { event?: unknown }[] };
    expect(yaml.classes[0]?.event).toEqual(buildPackageDocument({ classes: [Shipment, Warehouse, Audit] }).classes[0]?.event);
    expect(json.classes[0]?.event).toEqual(yaml.classes[0]?.event);
    // The class-level key is quoted: `*` alone would be a YAML alias.
    expect(exportPackage({ classes: [Shipment] })).toMatch(/^ +"\*":$/m);
  });

  it('refuses to export a class whose trigger names an unknown class or method', () => {
    @service('Broken', { package: 'shop', onUpdate: [{ cls: 'Nowhere', method: 'run' }] })
    class Broken extends OaasObject {}
    expect(() => buildPackageDocument({ classes: [Broken] })).toThrow(new RegistrationError('service shop.Broken: onUpdate[0]: unknown class shop.Nowhere (a bare name is looked up in the package shop)'));
    @service('Stateful', { package: 'shop' })
    class Stateful extends OaasObject {
      @method({ onComplete: [{ cls: 'Warehouse', method: 'release' }] }) async go(): Promise<void> {}
    }
    expect(() => buildPackageDocument({ classes: [Stateful] })).toThrow(/^service shop\.Stateful, @method go: onComplete\[0\]: shop\.Warehouse\.release is not stateless/);
  });

  it('refuses a field stored under the class-level key', () => {
    @service('Starred', { package: 'shop' })
    class Starred extends OaasObject {
      @field({ key: '*', onUpdate: [{ cls: 'Audit', method: 'record' }] }) star = 0;
    }
    expect(() => buildPackageDocument({ classes: [Starred] })).toThrow(/^shop\.Starred: field star is stored as \*, the key of the class's own triggers/);
  });

  it('keeps an entry key such as __proto__ as an entry', () => {
    @service('Protoish', { package: 'shop' })
    class Protoish extends OaasObject {
      @field({ key: '__proto__', onUpdate: [{ cls: 'Audit', method: 'record' }] }) odd = 0;
    }
    const event = buildPackageDocument({ classes: [Protoish] }).classes[0]?.event;
    expect(Object.keys(event?.data_trigger ?? {})).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(event)) as unknown).toEqual({ func_trigger: {}, data_trigger: JSON.parse('{"__proto__":{"on_create":[],"on_update":[{"cls_id":"shop.Audit","fn_id":"record"}],"on_delete":[]}}') as unknown });
  });
});
