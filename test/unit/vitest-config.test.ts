// Tests count only when they can fail. This runs our vitest config on a probe folder laid out
// like this repository and checks two things it promises: a type test (`*.test-d.ts`) with a
// wrong expectation fails, and a test that asserts nothing fails.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const vitestCli = join(realpathSync(join(repo, 'node_modules/vitest')), 'vitest.mjs');

interface TestResult {
  title: string;
  status: string;
  failureMessages: string[];
}

const PROBE_FILES: Record<string, string> = {
  'test/probe.test-d.ts': [
    "import { describe, expectTypeOf, it } from 'vitest';",
    "describe('types', () => {",
    "  it('right type', () => { expectTypeOf<{ n: number }>().toEqualTypeOf<{ n: number }>(); });",
    "  it('wrong type', () => { expectTypeOf<{ n: number }>().toEqualTypeOf<{ n: string }>(); });",
    '});',
  ].join('\n'),
  'test/probe.test.ts': [
    "import { describe, expect, it } from 'vitest';",
    "describe('runtime', () => {",
    "  it('asserts', () => { expect(1 + 1).toBe(2); });",
    "  it('asserts nothing', () => { void (1 + 1); });",
    '});',
  ].join('\n'),
};

describe('the vitest config', () => {
  const probe = mkdtempSync(join(tmpdir(), 'oaas-vitest-config-'));
  let code: number | null = null;
  let output = '';
  let results = new Map<string, TestResult>();

  beforeAll(async () => {
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(probe, 'node_modules'));
    writeFileSync(join(probe, 'tsconfig.json'), JSON.stringify({ extends: join(repo, 'tsconfig.json'), include: [] }));
    mkdirSync(join(probe, 'test/support'), { recursive: true });
    for (const file of ['test/tsconfig.typecheck.json', 'test/support/setup.ts']) copyFileSync(join(repo, file), join(probe, file));
    for (const [file, text] of Object.entries(PROBE_FILES)) writeFileSync(join(probe, file), `${text}\n`);
    const report = join(probe, 'report.json');
    // Our own config, rooted at the probe: its settings (typecheck on, which files, setup files) are what is tested.
    const child = spawn(process.execPath, [vitestCli, 'run', '--config', join(repo, 'vitest.config.ts'), '--root', probe, '--reporter=json', `--outputFile=${report}`], {
      cwd: probe,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    [code] = (await once(child, 'close')) as [number | null];
    const parsed = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { assertionResults: TestResult[] }[] };
    results = new Map(parsed.testResults.flatMap((file) => file.assertionResults).map((t) => [t.title, t]));
  }, 90_000);
  afterAll(() => {
    rmSync(probe, { recursive: true, force: true });
  });

  it('fails the probe run, with exactly the tests that cannot be right', () => {
    expect(code, output).toBe(1);
    expect(new Map([...results].map(([title, t]) => [title, t.status]))).toEqual(
      new Map([
        ['right type', 'passed'],
        ['wrong type', 'failed'],
        ['asserts', 'passed'],
        ['asserts nothing', 'failed'],
      ]),
    );
  });

  it('compiles type tests: a wrong expectTypeOf fails its test', () => {
    expect(results.get('wrong type')?.failureMessages.join('\n')).toMatch(/Expected: string, Actual: number|Expected string, Actual number/);
  });

  it('fails a test that makes no assertion', () => {
    expect(results.get('asserts nothing')?.failureMessages.join('\n')).toMatch(/expected any number of assertion, but got none/);
  });
});
