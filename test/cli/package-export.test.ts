import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InvalidArgumentError, OaasObject, ObjectRef, RegistrationError, field, getter, method, service, setter, transient } from '../../src/index.js';
import { buildPackageDocument, exportPackage, type PackageDocument } from '../../src/package/package-export.js';

// Vitest compiles with swc, which emits `design:*` metadata like tsc: parameter types are known here.

@service('Ledger', { package: 'bank' })
class Ledger extends OaasObject {
  entries: string[] = [];

  @method()
  async append(entry: string): Promise<void> {
    this.entries.push(entry);
  }
}

@service('Account', { package: 'bank', description: 'a bank account' })
class Account extends OaasObject {
  balance = 0;
  owner = '';
  frozen = false;
  history: number[] = [];
  profile = { tier: 'basic' };
  photo = new Uint8Array(0);
  opened = new Date(0);
  limits = new Map<string, number>();
  tags = new Set<string>();
  cents = 0n;
  @field({ key: 'joint_with' }) partner?: Ledger;
  @field() nickname: string | undefined = undefined;
  link: ObjectRef = new ObjectRef('bank.Account', 0, 'root');
  untyped: unknown = null;
  @transient() cache = new Map<string, unknown>();
  _scratch = 1;

  @method()
  async deposit(amount: number, memo: string): Promise<number> {
    this.balance += amount;
    this.history.push(amount);
    return memo.length;
  }

  @method({ name: 'transfer_to' })
  async transferTo(other: Ledger, amount: number, options: { note?: string } = {}): Promise<void> {
    this.balance -= amount;
    void other;
    void options;
  }

  @method({ stateless: true })
  async rate(): Promise<number> {
    return 0.01;
  }

  @getter() declare getBalance: () => Promise<number>;
  @setter() declare setOwner: (owner: string) => Promise<void>;
}

@service('Mailer', { package: 'notify' })
class Mailer extends OaasObject {
  sent = 0;

  @method({ stateless: true })
  async send(to: string, flag: boolean, when: Date, extra: unknown): Promise<void> {
    void [to, flag, when, extra];
  }
}

const bank = { classes: [Account, Ledger] };

describe('buildPackageDocument', () => {
  it('exports the registered classes except the internal package, in registration order', () => {
    const doc = buildPackageDocument({ name: 'all' });
    expect(doc.classes.map((c) => c.key)).toEqual(['Ledger', 'Account', 'Mailer']);
    expect(() => buildPackageDocument()).toThrow(InvalidArgumentError);
    expect(() => buildPackageDocument()).toThrow(/several packages \(bank, notify\); pass a package name/);
  });

  it('names the package after the classes, version 0.1.0, no metadata by default', () => {
    const doc = buildPackageDocument(bank);
    expect(doc).toMatchObject({ name: 'bank', version: '0.1.0', metadata: {} });
    expect(buildPackageDocument({ ...bank, name: 'banking', version: '2.1.0', description: 'money' })).toMatchObject({
      name: 'banking',
      version: '2.1.0',
      metadata: { description: 'money' },
    });
  });

  it('infers key types from the default values, then from design:type, else any', () => {
    const account = buildPackageDocument(bank).classes[0]!;
    expect(account.key).toBe('Account');
    expect(account.description).toBe('a bank account');
    expect(account.state_spec.key_specs).toEqual([
      { name: 'balance', key_type: 'number' },
      { name: 'owner', key_type: 'string' },
      { name: 'frozen', key_type: 'boolean' },
      { name: 'history', key_type: 'array' },
      { name: 'profile', key_type: 'object' },
      { name: 'photo', key_type: 'bytes' },
      { name: 'opened', key_type: 'date' },
      { name: 'limits', key_type: 'map' },
      { name: 'tags', key_type: 'set' },
      { name: 'cents', key_type: 'bigint' },
      // No default, `@field()` on a Ledger-typed property: design:type says a service class.
      { name: 'joint_with', key_type: 'ref' },
      { name: 'nickname', key_type: 'any' },
      { name: 'link', key_type: 'ref' },
      { name: 'untyped', key_type: 'any' },
    ]);
  });

  it('binds every @method (not getters or setters) to a function, with its parameters', () => {
    const doc = buildPackageDocument(bank);
    expect(doc.classes[0]!.function_bindings).toEqual([
      { name: 'deposit', function_key: 'Account.deposit', access_modifier: 'PUBLIC', stateless: false, parameters: ['number', 'string'] },
      { name: 'transfer_to', function_key: 'Account.transfer_to', access_modifier: 'PUBLIC', stateless: false, parameters: ['ref', 'number', 'any'] },
      { name: 'rate', function_key: 'Account.rate', access_modifier: 'PUBLIC', stateless: true, parameters: [] },
    ]);
    expect(doc.functions).toEqual([
      { key: 'Account.deposit', function_type: 'CUSTOM', description: 'Account.deposit of bank', config: {} },
      { key: 'Account.transfer_to', function_type: 'CUSTOM', description: 'Account.transfer_to of bank', config: {} },
      { key: 'Account.rate', function_type: 'CUSTOM', description: 'Account.rate of bank', config: {} },
      { key: 'Ledger.append', function_type: 'CUSTOM', description: 'Ledger.append of bank', config: {} },
    ]);
    const names = doc.classes.flatMap((c) => c.function_bindings.map((b) => b.name));
    expect(names).not.toContain('getBalance');
    expect(names).not.toContain('setOwner');
    expect(doc.classes[1]).toEqual({
      key: 'Ledger',
      state_spec: { key_specs: [{ name: 'entries', key_type: 'array' }] },
      function_bindings: [{ name: 'append', function_key: 'Ledger.append', access_modifier: 'PUBLIC', stateless: false, parameters: ['string'] }],
    });
  });

  it('maps parameter types to the key type vocabulary', () => {
    const doc = buildPackageDocument({ classes: [Mailer] });
    expect(doc.classes[0]!.function_bindings[0]!.parameters).toEqual(['string', 'boolean', 'date', 'any']);
  });

  it('exports a class listed twice once, and only the classes asked for', () => {
    const doc = buildPackageDocument({ classes: [Ledger, Ledger] });
    expect(doc.classes.map((c) => c.key)).toEqual(['Ledger']);
    expect(doc.functions.map((f) => f.key)).toEqual(['Ledger.append']);
  });

  it('rejects classes of several packages without a name', () => {
    expect(() => buildPackageDocument({ classes: [Account, Mailer] })).toThrow(InvalidArgumentError);
    expect(() => buildPackageDocument({ classes: [Account, Mailer] })).toThrow(/several packages \(bank, notify\)/);
    expect(buildPackageDocument({ classes: [Account, Mailer], name: 'mixed' }).classes).toHaveLength(2);
  });

  it('rejects two classes with one name (in different packages) as duplicate keys', () => {
    // Registered here, not at the top: the default export of the other tests would see the clash.
    @service('Ledger', { package: 'audit' })
    class AuditLedger extends OaasObject {
      @method() async append(): Promise<void> {}
    }
    const attempt = () => buildPackageDocument({ classes: [Ledger, AuditLedger], name: 'both' });
    expect(attempt).toThrow(RegistrationError);
    expect(attempt).toThrow('package both: classes bank.Ledger and audit.Ledger both have the key Ledger');
  });

  it('rejects bad options with InvalidArgumentError', () => {
    class Plain extends OaasObject {}
    expect(() => buildPackageDocument({ classes: [Plain] })).toThrow(/Plain is not a registered @service class/);
    expect(() => buildPackageDocument({ classes: [] })).toThrow(/no service classes to export/);
    expect(() => buildPackageDocument({ ...bank, name: 'has space' })).toThrow(InvalidArgumentError);
    expect(() => buildPackageDocument({ ...bank, version: '' })).toThrow(InvalidArgumentError);
    expect(() => exportPackage({ ...bank, format: 'xml' as 'json' })).toThrow(/format: expected 'yaml' or 'json'/);
  });

  it('reports a constructor that needs arguments as a RegistrationError', () => {
    @service('Needy', { package: 'needy' })
    class Needy extends OaasObject {
      size: number;
      constructor(size?: number) {
        super();
        if (size === undefined) throw new Error('size is required');
        this.size = size;
      }
    }
    expect(() => buildPackageDocument({ classes: [Needy] })).toThrow(/needy.Needy: the constructor must work with no arguments \(size is required\)/);
  });
});

describe('exportPackage', () => {
  it('writes YAML by default and JSON on request; both parse back to the document', () => {
    const doc: PackageDocument = buildPackageDocument(bank);
    const yaml = exportPackage(bank);
    const json = exportPackage({ ...bank, format: 'json' });
    expect(parse(yaml)).toEqual(doc);
    expect(JSON.parse(json)).toEqual(doc);
    expect(json).toBe(`${JSON.stringify(doc, null, 2)}\n`);
    expect(yaml.endsWith('\n')).toBe(true);
    expect(yaml).toMatch(/^name: bank\nversion: 0\.1\.0\nmetadata: \{\}\nclasses:\n {2}- key: Account\n/);
    // Every entry spelled out: no YAML anchors or aliases for repeated values.
    expect(yaml).not.toMatch(/[&*]a\d/);
  });

  it('is deterministic', () => {
    expect(exportPackage(bank)).toBe(exportPackage(bank));
  });
});
