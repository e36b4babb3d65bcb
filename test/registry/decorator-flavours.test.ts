/**
 * The decorators under both flavours: standard (TC39) decorators and
 * TypeScript's `experimentalDecorators`. Vitest compiles this repository with
 * legacy decorators, so every standard-decorator run happens in a separate
 * project, compiled by plain `tsc` (or run by tsx) and run in child processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { ConsumerProject, typeErrors, type Finished, type Flavour } from './consumer.js';

const FLAVOURS: readonly Flavour[] = ['standard', 'legacy'];
const SAMPLE = ['sdk.ts', 'services.ts', 'main.ts'];

interface Misuse {
  readonly name: string;
  /** The module body, after an import of `OaasObject`, `field`, `method` and `service`. */
  readonly source: string;
  readonly message: RegExp;
  /** Flavours under which tsc already reports the misuse. */
  readonly typeError: readonly Flavour[];
  readonly flavours: readonly Flavour[];
}

const MISUSES: readonly Misuse[] = [
  {
    name: 'method-on-field',
    source: `@service('A', { package: 'misuse' }) class A extends OaasObject { @method() n = 0; }`,
    message: /^@method can only decorate a method; n is a field$/,
    typeError: ['standard'],
    flavours: FLAVOURS,
  },
  {
    name: 'field-on-method',
    source: `class B extends OaasObject { @field() async run(): Promise<void> {} }`,
    message: /^@field can only decorate a field; run is a method$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    name: 'plain-class',
    source: `@service('Plain', { package: 'misuse' }) class Plain { n = 0; }`,
    message: /^service Plain: class Plain must extend OaasObject$/,
    typeError: [],
    flavours: FLAVOURS,
  },
  {
    name: 'static-method',
    source: `class C extends OaasObject { @method() static async run(): Promise<void> {} }`,
    message: /^@method cannot decorate static members; run is static$/,
    typeError: [],
    flavours: FLAVOURS,
  },
  {
    name: 'method-without-parentheses',
    source: `class D extends OaasObject { @method async run(): Promise<void> {} }`,
    message: /^@method is a decorator factory; write @method\(\) with parentheses$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    // Under standard decorators, reported when the dropped factory runs as the field's initialiser.
    name: 'field-without-parentheses',
    source: `class D2 extends OaasObject { @field n = 0; }\nnew D2();`,
    message: /^@field is a decorator factory; write @field\(\) with parentheses$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    name: 'service-without-parentheses',
    source: `@service class D3 extends OaasObject {}`,
    message: /^@service is a decorator factory; write @service\(\) with parentheses$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    name: 'service-on-method',
    source: `class E extends OaasObject { @service('E') async run(): Promise<void> {} }`,
    // Legacy decorators hand it the prototype, standard ones the method and its context.
    message: /^@service (must decorate a class|can only decorate a class; run is a method)$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    name: 'private-method',
    source: `class F extends OaasObject { @method() async #run(): Promise<void> {} }`,
    message: /^@method cannot decorate private members; #run is private$/,
    typeError: [],
    flavours: ['standard'],
  },
  {
    name: 'field-on-auto-accessor',
    source: `class G extends OaasObject { @field() accessor n = 0; }`,
    message: /^@field can only decorate a field; n is an auto-accessor$/,
    typeError: ['standard'],
    flavours: ['standard'],
  },
  {
    name: 'trigger-without-method',
    source: `@service('T1', { package: 'misuse', onCreate: [{ cls: 'X', method: '' }] }) class T1 extends OaasObject {}`,
    message: /^service misuse\.T1: onCreate\[0\]\.method: expected a method name, got ""$/,
    typeError: [],
    flavours: FLAVOURS,
  },
  {
    name: 'field-trigger-unknown-key',
    source: `@service('T2', { package: 'misuse' }) class T2 extends OaasObject { @field({ onUpdate: [{ cls: 'X', method: 'm', fn: 'x' }] }) n = 0; }`,
    message: /^service misuse\.T2, @field n: onUpdate\[0\]: unknown key fn; a trigger target has cls, method, objectId and partitionId$/,
    typeError: ['standard', 'legacy'],
    flavours: FLAVOURS,
  },
  {
    name: 'method-trigger-not-a-list',
    source: `@service('T3', { package: 'misuse' }) class T3 extends OaasObject { @method({ onError: {} as never }) async run(): Promise<void> {} }`,
    message: /^service misuse\.T3, @method run: onError: expected an array of trigger targets, got an Object$/,
    typeError: [],
    flavours: FLAVOURS,
  },
  {
    // What a compiler without decorator metadata (TypeScript < 5.2) does; last, as it removes the symbol.
    name: 'no-decorator-metadata',
    source: `delete (Symbol as { metadata?: symbol }).metadata;\nclass H extends OaasObject { @method() async run(): Promise<void> {} }`,
    message: /^@method on run: the compiler passed no decorator metadata \(context\.metadata\); use TypeScript 5\.2 or later, or experimentalDecorators$/,
    typeError: [],
    flavours: ['standard'],
  },
];

const WRITTEN = { increment: 2, rename: 'b!', audited: 5, ping: 'pong', greet: 'hello, ada' };
const RELOADED = { counter: { count: 2, label: 'c', seen: [] }, audited: { count: 5, log: ['+5'], label: '' } };

interface SampleDocument {
  classes: { key: string; state_spec: { key_specs: { name: string }[] }; function_bindings: { name: string; stateless: boolean; parameters: string[] }[]; event?: unknown }[];
}

const PING = { cls_id: 'decorators.AuditedCounter', fn_id: 'ping' };

function lastLine(run: Finished): unknown {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const lines = run.stdout.trim().split('\n');
  return JSON.parse(lines.at(-1)!);
}

/** What every flavour must register: the inherited members, the overrides, keys and transient fields. */
function expectSampleDocument(document: SampleDocument, rename: readonly string[]): void {
  const [counter, audited, greeter] = document.classes;
  expect(counter?.key).toBe('Counter');
  expect(counter?.state_spec.key_specs.map((k) => k.name)).toEqual(['count', 'title']);
  expect(counter?.function_bindings.map((b) => [b.name, b.parameters])).toEqual([
    ['increment', ['any']],
    ['rename', rename],
  ]);
  expect(audited?.key).toBe('AuditedCounter');
  expect(audited?.state_spec.key_specs.map((k) => k.name)).toEqual(['count', 'title', 'log']);
  expect(audited?.function_bindings.map((b) => [b.name, b.stateless])).toEqual([
    ['increment', false],
    ['rename', false],
    ['ping', true],
  ]);
  expect(greeter?.key).toBe('Greeter');
  expect(greeter?.function_bindings.map((b) => b.name)).toEqual(['greet']);
  // Triggers on the class, an inherited method and a field, by either flavour; the override of `increment` drops its trigger.
  expect(counter?.event).toEqual({
    func_trigger: { increment: { on_complete: [PING], on_error: [] } },
    data_trigger: {
      '*': { on_create: [{ ...PING, partition_id: 1 }], on_update: [], on_delete: [] },
      title: { on_create: [], on_update: [PING], on_delete: [] },
    },
  });
  expect(audited?.event).toEqual({ func_trigger: {}, data_trigger: { title: { on_create: [], on_update: [PING], on_delete: [] } } });
  expect(greeter).not.toHaveProperty('event');
}

const project = new ConsumerProject();
const compiled = new Map<string, Finished>();

beforeAll(async () => {
  await project.setUp();
  for (const misuse of MISUSES) {
    project.write(`misuse/${misuse.name}.ts`, `import { OaasObject, field, method, service } from '../sdk.js';\n${misuse.source}\nexport {};\n`);
  }
  const builds = FLAVOURS.flatMap((flavour) => [
    [flavour, project.tsconfig(flavour, flavour, SAMPLE)],
    [`misuse-${flavour}`, project.tsconfig(`misuse-${flavour}`, flavour, ['run-misuse.ts', ...MISUSES.filter((m) => m.flavours.includes(flavour)).map((m) => `misuse/${m.name}.ts`)])],
  ]);
  await Promise.all(builds.map(async ([name, tsconfig]) => compiled.set(name!, await project.tsc(tsconfig!))));
}, 180_000);

afterAll(() => project.remove());

describe.each(FLAVOURS)('services compiled by plain tsc, %s decorators', (flavour) => {
  it('type-check without errors', () => {
    const build = compiled.get(flavour)!;
    expect(build.stdout + build.stderr).toBe('');
    expect(build.code).toBe(0);
  });

  it('register every member, create, call, commit to SQLite, and reload in a new process', async () => {
    const db = project.path(`${flavour}.db`);
    const written = lastLine(await project.node(flavour, 'main.js', ['write', db])) as { results: unknown; document: SampleDocument };
    expect(written.results).toEqual(WRITTEN);
    // Design types exist only with emitDecoratorMetadata; `increment(by = 1)` has no annotation to record.
    expectSampleDocument(written.document, flavour === 'legacy' ? ['string', 'string'] : ['any', 'any']);
    expect(lastLine(await project.node(flavour, 'main.js', ['read', db]))).toEqual(RELOADED);
  });

  it('refuse misused decorators with a coded RegistrationError, most already at type-check', async () => {
    const cases = MISUSES.filter((m) => m.flavours.includes(flavour));
    const build = compiled.get(`misuse-${flavour}`)!;
    const erroneous = new Set(typeErrors(build.stdout).map((line) => line.split('(')[0]));
    expect([...erroneous].sort()).toEqual(cases.filter((m) => m.typeError.includes(flavour)).map((m) => `misuse/${m.name}.ts`).sort());

    const run = await project.node(`misuse-${flavour}`, 'run-misuse.js', cases.map((m) => m.name));
    expect(run.stderr).toBe('');
    const reports = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; error?: string; code?: string; message?: string });
    expect(reports.map((r) => r.name)).toEqual(cases.map((m) => m.name));
    for (const [i, report] of reports.entries()) {
      expect(report, report.name).toMatchObject({ error: 'RegistrationError', code: 'OAAS_ERR_REGISTRY_CONFLICT' });
      expect(report.message, report.name).toMatch(cases[i]!.message);
    }
  });
});

describe('services run by tsx with a tsconfig without experimentalDecorators', () => {
  let tsconfig = '';
  beforeAll(() => {
    tsconfig = project.tsconfig('tsx', 'standard', [...SAMPLE, 'run-misuse.ts', ...MISUSES.map((m) => `misuse/${m.name}.ts`)]);
  });

  async function tsx(script: string, args: readonly string[]): Promise<Finished> {
    const child = new TsChild(project.path(script), args, { TSX_TSCONFIG_PATH: tsconfig });
    const [code] = await child.exit();
    return { code: code ?? 1, stdout: child.stdout, stderr: child.stderr };
  }

  it('register every member, create, call, commit to SQLite, and reload in a new process', async () => {
    const db = project.path('tsx.db');
    const written = lastLine(await tsx('main.ts', ['write', db])) as { results: unknown; document: SampleDocument };
    expect(written.results).toEqual(WRITTEN);
    // esbuild emits no design types.
    expectSampleDocument(written.document, ['any', 'any']);
    expect(lastLine(await tsx('main.ts', ['read', db]))).toEqual(RELOADED);
  });

  it('refuse misused decorators with a coded RegistrationError', async () => {
    // esbuild always passes decorator metadata (falling back to Symbol.for('Symbol.metadata')).
    const cases = MISUSES.filter((m) => m.flavours.includes('standard') && m.name !== 'no-decorator-metadata');
    const run = await tsx('run-misuse.ts', cases.map((m) => m.name));
    const reports = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; code?: string; message?: string });
    expect(reports.map((r) => [r.name, r.code])).toEqual(cases.map((m) => [m.name, 'OAAS_ERR_REGISTRY_CONFLICT']));
    for (const [i, report] of reports.entries()) expect(report.message, report.name).toMatch(cases[i]!.message);
  });
});
