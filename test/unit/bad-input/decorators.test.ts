// Malformed input to the decorators: a typed error, and nothing changed (see support.ts).
import { describe, expect, it } from 'vitest';
import { ClassNotFoundError, OaasObject, RegistrationError, field, method, service } from '../../../src/index.js';
import { check, thrown, REG, CLS, snapshot, freshRuntimeEachTest } from './support.js';

freshRuntimeEachTest();

describe('decorators', () => {
  class Target extends OaasObject {
    n = 0;
    async run(): Promise<void> {}
  }
  const proto = Target.prototype;
  const desc = Object.getOwnPropertyDescriptor(proto, 'run');

  it.each([
    ['an empty name', ''],
    ['a name with a space', 'bad name'],
    ['a name starting with a digit', '9lives'],
    ['a name with a dot', 'a.b'],
    ['a name that is not a string', 42],
    ['a 101-character name', 'N'.repeat(101)],
  ])('service() refuses %s', (_label, name) => {
    check(thrown(() => service(name as never, { package: 'unit_bad' })(class extends OaasObject {})), RegistrationError, REG);
  });

  it('service() refuses a bad package, bad options, and a non-class', () => {
    check(thrown(() => service('PkgBad', { package: 'bad pkg' })(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', { package: '' })(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', null as never)(class extends OaasObject {})), RegistrationError, REG);
    check(thrown(() => service('PkgBad', { package: 'unit_bad' })(42 as never)), RegistrationError, REG);
  });

  it('service() refuses a class that does not extend OaasObject', () => {
    class Plain {
      n = 0;
    }
    const e = check(thrown(() => service('Plain', { package: 'unit_bad' })(Plain)), RegistrationError, REG);
    expect(e.message).toContain('OaasObject');
  });

  it('refuses a class id taken by another class, keeping the first registration', () => {
    class DupA extends OaasObject {
      a = 1;
    }
    class DupB extends OaasObject {
      b = 2;
    }
    service('Dup', { package: 'unit_bad' })(DupA);
    expect(() => service('Dup', { package: 'unit_bad' })(DupA)).not.toThrow();
    const e = check(thrown(() => service('Dup', { package: 'unit_bad' })(DupB)), RegistrationError, REG);
    expect(e.message).toContain('unit_bad.Dup');
    check(thrown(() => service('DupAgain', { package: 'unit_bad' })(DupA)), RegistrationError, REG);
    expect(DupA.create({}, { id: 'a' }).clsId).toBe('unit_bad.Dup');
    check(thrown(() => DupB.create({}, { id: 'b' })), ClassNotFoundError, CLS);
  });

  it.each([
    ['timeoutMs 0', { timeoutMs: 0 }],
    ['timeoutMs -5', { timeoutMs: -5 }],
    ['timeoutMs 1.5', { timeoutMs: 1.5 }],
    ['retries -1', { retries: -1 }],
    ['retries 0.5', { retries: 0.5 }],
    ["retries '2'", { retries: '2' }],
    ['retryDelayMs -1', { retryDelayMs: -1 }],
    ['a bad invocation name', { name: 'bad name' }],
    ['null options', null],
  ])('method() refuses %s', (_label, options) => {
    check(thrown(() => method(options as never)(proto, 'run', desc)), RegistrationError, REG);
  });

  it('method() refuses a symbol member and a property that is not a function', () => {
    check(thrown(() => method()(proto, Symbol('run'), desc)), RegistrationError, REG);
    check(thrown(() => method()(proto, 'n')), RegistrationError, REG);
  });

  it('field() refuses an empty or non-string key and symbol members', () => {
    check(thrown(() => field({ key: '' })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field({ key: 5 as never })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field({ key: 'k'.repeat(201) })(proto, 'n')), RegistrationError, REG);
    check(thrown(() => field()(proto, Symbol('n'))), RegistrationError, REG);
  });

  it('refuses a state field named id (or another member) on the first create, leaving nothing behind', () => {
    @service('IdField', { package: 'unit_bad' })
    class IdField extends OaasObject {
      // @ts-expect-error -- on purpose: a state field that shadows the `id` accessor must be refused
      id = 'mine';
      n = 0;
    }
    @service('VersionField', { package: 'unit_bad' })
    class VersionField extends OaasObject {
      // @ts-expect-error -- on purpose: a state field that shadows the `version` accessor must be refused
      version = 1;
    }
    const s = snapshot();
    const e = check(thrown(() => IdField.create({}, { id: 'x' })), RegistrationError, REG);
    expect(e.message).toContain('id');
    check(thrown(() => IdField.create()), RegistrationError, REG);
    check(thrown(() => VersionField.create()), RegistrationError, REG);
    expect(snapshot()).toEqual(s);
  });
});
