// Resolving trigger targets when the runtime starts: class ids, bare names and functions become registered classes, methods are checked.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, OaasObject, RegistrationError, field, getter, method, service } from '../../src/index.js';
import type { TriggerTarget } from '../../src/index.js';
import type { ClassMeta } from '../../src/registry/class-meta.js';
import { findClassMeta } from '../../src/registry/registry.js';
import { resolveTriggers } from '../../src/triggers/resolve-triggers.js';

function metaOf(cls: unknown): ClassMeta {
  const meta = findClassMeta(cls);
  if (meta === undefined) throw new Error('not registered');
  return meta;
}

// Two classes that point at each other: each names the other through a function, called only at resolution.
@service('Invoice', { package: 'res', onCreate: [{ cls: () => Ledger, method: 'opened', objectId: 'main' }] })
class Invoice extends OaasObject {
  @field({ key: 'amount_due', onUpdate: [{ cls: 'Ledger', method: 'note', partitionId: 2 }] }) due = 0;

  @method({ onComplete: [{ cls: 'other.Mailer', method: 'send' }], onError: [{ cls: () => Ledger, method: 'failed', objectId: 7 }] })
  async pay(): Promise<void> {}
}

@service('Ledger', { package: 'res', onDelete: [{ cls: () => Invoice, method: 'pay', objectId: 'inv-1' }] })
class Ledger extends OaasObject {
  @method() async opened(): Promise<void> {}
  @method() async failed(): Promise<void> {}
  @method({ stateless: true }) async note(): Promise<void> {}
  @getter() getMemo!: () => Promise<string>;
  @method() async _internal(): Promise<void> {}
  @method({ stateless: true }) async _hidden(): Promise<void> {}
  memo = '';
}

@service('Mailer', { package: 'other' })
class Mailer extends OaasObject {
  @method({ stateless: true }) async send(): Promise<void> {}
}

@service('Hidden', { package: 'oaas' })
class Hidden extends OaasObject {
  @method({ stateless: true }) async run(): Promise<void> {}
}

describe('resolveTriggers', () => {
  it('resolves ids, bare names (in the source package) and functions, with the stored field key', () => {
    expect(Mailer.name).toBe('Mailer');
    const resolved = resolveTriggers(metaOf(Invoice));
    expect(resolved.clsId).toBe('res.Invoice');
    expect(resolved.data).toEqual({ create: [{ clsId: 'res.Ledger', method: 'opened', objectId: 'main', partitionId: undefined }], update: [], delete: [] });
    expect(resolved.fields).toEqual([{ field: 'due', key: 'amount_due', create: [], update: [{ clsId: 'res.Ledger', method: 'note', objectId: undefined, partitionId: 2 }], delete: [] }]);
    expect(resolved.functions).toEqual(
      new Map([
        [
          'pay',
          {
            complete: [{ clsId: 'other.Mailer', method: 'send', objectId: undefined, partitionId: undefined }],
            error: [{ clsId: 'res.Ledger', method: 'failed', objectId: '7', partitionId: undefined }],
          },
        ],
      ]),
    );
    // And the other way round.
    expect(resolveTriggers(metaOf(Ledger)).data.delete).toEqual([{ clsId: 'res.Invoice', method: 'pay', objectId: 'inv-1', partitionId: undefined }]);
  });

  it('gives empty lists for a class without triggers', () => {
    expect(resolveTriggers(metaOf(Mailer))).toEqual({ clsId: 'other.Mailer', data: { create: [], update: [], delete: [] }, fields: [], functions: new Map() });
  });

  it('resolves a class registered after the one that names it', () => {
    @service('Early', { package: 'res', onUpdate: [{ cls: 'Late', method: 'ping' }] })
    class Early extends OaasObject {}
    // Naming a class not registered yet is fine until resolution.
    expect(() => resolveTriggers(metaOf(Early))).toThrow(/unknown class res\.Late/);
    @service('Late', { package: 'res' })
    class Late extends OaasObject {
      @method({ stateless: true }) async ping(): Promise<void> {}
    }
    expect(Late.name).toBe('Late');
    expect(resolveTriggers(metaOf(Early)).data.update).toEqual([{ clsId: 'res.Late', method: 'ping', objectId: undefined, partitionId: undefined }]);
  });
});

describe('resolveTriggers refuses', () => {
  let serial = 0;
  /** A class with one `onCreate` target, and the message its resolution fails with. */
  function failure(target: TriggerTarget): string {
    serial += 1;
    @service(`Source${serial}`, { package: 'res', onCreate: [target] })
    class Source extends OaasObject {}
    try {
      resolveTriggers(metaOf(Source));
    } catch (error) {
      expect(error).toBeInstanceOf(RegistrationError);
      return (error as Error).message.replace(`service res.Source${serial}: `, '');
    }
    throw new Error('resolved');
  }

  it('an unknown class id', () => {
    expect(failure({ cls: 'nowhere.Thing', method: 'run' })).toBe('onCreate[0]: unknown class nowhere.Thing');
  });

  it('an unknown bare name, saying where it was looked up', () => {
    expect(failure({ cls: 'Mailer', method: 'send' })).toBe('onCreate[0]: unknown class res.Mailer (a bare name is looked up in the package res)');
  });

  it('a function that throws, keeping its error as the cause', () => {
    const boom = new Error('not yet');
    let caught: unknown;
    try {
      @service('Throwing', { package: 'res', onCreate: [{ cls: () => { throw boom; }, method: 'run' }] })
      class Throwing extends OaasObject {}
      resolveTriggers(metaOf(Throwing));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegistrationError);
    expect((caught as Error).message).toBe('service res.Throwing: onCreate[0].cls: the function naming the class threw: not yet');
    expect((caught as Error).cause).toBe(boom);
  });

  it('a function returning something other than a registered class', () => {
    class Unregistered extends OaasObject {}
    expect(failure({ cls: () => Unregistered, method: 'run' })).toBe('onCreate[0].cls: the function returned class Unregistered, which is not a registered @service class');
    expect(failure({ cls: (() => undefined) as never, method: 'run' })).toBe('onCreate[0].cls: the function returned undefined, which is not a registered @service class');
    expect(failure({ cls: (() => 'res.Ledger') as never, method: 'run' })).toBe('onCreate[0].cls: the function returned "res.Ledger", which is not a registered @service class');
  });

  it('an internal class of the SDK', () => {
    expect(Hidden.name).toBe('Hidden');
    expect(failure({ cls: 'oaas.Hidden', method: 'run' })).toBe('onCreate[0]: oaas.Hidden is an internal class of the SDK');
  });

  it('an unknown method, and an accessor named as a method', () => {
    expect(failure({ cls: 'Ledger', method: 'nope', objectId: 'a' })).toBe('onCreate[0]: class res.Ledger has no @method nope');
    expect(failure({ cls: 'Ledger', method: 'getMemo', objectId: 'a' })).toBe('onCreate[0]: class res.Ledger has getMemo as a @getter, not a @method');
  });

  it('a private method', () => {
    expect(failure({ cls: 'Ledger', method: '_internal', objectId: 'a' })).toBe('onCreate[0]: res.Ledger._internal is private (its name starts with _)');
    expect(failure({ cls: 'Ledger', method: '_hidden' })).toBe('onCreate[0]: res.Ledger._hidden is private (its name starts with _)');
  });

  it('a method that is not stateless, without objectId', () => {
    expect(failure({ cls: 'Ledger', method: 'opened' })).toBe(
      'onCreate[0]: res.Ledger.opened is not stateless; name the object it runs on with objectId, or declare it @method({ stateless: true })',
    );
  });

  it('a bad target on a field or a method, naming the member', () => {
    @service('FieldSource', { package: 'res' })
    class FieldSource extends OaasObject {
      @field({ onDelete: [{ cls: 'Ledger', method: 'note' }, { cls: 'Ledger', method: 'missing' }] }) n = 0;
    }
    expect(() => resolveTriggers(metaOf(FieldSource))).toThrow(new RegistrationError('service res.FieldSource, @field n: onDelete[1]: class res.Ledger has no @method missing'));
    @service('MethodSource', { package: 'res' })
    class MethodSource extends OaasObject {
      @method({ name: 'do_it', onComplete: [{ cls: 'Ledger', method: 'opened' }] }) async doIt(): Promise<void> {}
    }
    expect(() => resolveTriggers(metaOf(MethodSource))).toThrow(/^service res\.MethodSource, @method doIt: onComplete\[0\]: res\.Ledger\.opened is not stateless/);
  });

  it('metadata that is not a registered class’s', () => {
    for (const bad of [undefined, null, {}, { clsId: 'res.Invoice' }, 'res.Invoice']) {
      expect(() => resolveTriggers(bad as never)).toThrow(InvalidArgumentError);
    }
    expect(() => resolveTriggers(bad())).toThrow('meta: expected the metadata of a registered @service class');
  });
});

/** A copy of a registered class's metadata: the same shape, but not what the registry holds. */
function bad(): ClassMeta {
  return { ...metaOf(Invoice) };
}
