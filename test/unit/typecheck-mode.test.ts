// The type tests (`*.test-d.ts`) count only because vitest compiles them: this runs our vitest
// config on a probe folder laid out like this repository, holding one right and one wrong
// expectation, and checks that the wrong one fails its test.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const vitestCli = join(realpathSync(join(repo, 'node_modules/vitest')), 'vitest.mjs');
const probe = mkdtempSync(join(tmpdir(), 'oaas-typecheck-'));
afterAll(() => {
  rmSync(probe, { recursive: true, force: true });
});

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

describe('typecheck mode', () => {
  it('fails a type test whose expectation is wrong, and passes the right one', { timeout: 60_000 }, async () => {
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(probe, 'node_modules'));
    writeFileSync(join(probe, 'tsconfig.json'), JSON.stringify({ extends: join(repo, 'tsconfig.json'), include: [] }));
    mkdirSync(join(probe, 'test'));
    copyFileSync(join(repo, 'test/tsconfig.typecheck.json'), join(probe, 'test/tsconfig.typecheck.json'));
    writeFileSync(
      join(probe, 'test/probe.test-d.ts'),
      [
        "import { describe, expectTypeOf, it } from 'vitest';",
        "describe('probe', () => {",
        "  it('right', () => { expectTypeOf<{ n: number }>().toEqualTypeOf<{ n: number }>(); });",
        "  it('wrong', () => { expectTypeOf<{ n: number }>().toEqualTypeOf<{ n: string }>(); });",
        '});',
        '',
      ].join('\n'),
    );
    const report = join(probe, 'report.json');
    // Our own config, rooted at the probe: its typecheck settings (on, which files, which tsconfig) are what is tested.
    const child = spawn(process.execPath, [vitestCli, 'run', '--config', join(repo, 'vitest.config.ts'), '--root', probe, '--reporter=json', `--outputFile=${report}`], {
      cwd: probe,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [code] = (await once(child, 'close')) as [number | null];
    expect(code, output).toBe(1);
    const result = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
    const tests = result.testResults.flatMap((file) => file.assertionResults);
    expect(tests.map((t) => [t.title, t.status])).toEqual([
      ['right', 'passed'],
      ['wrong', 'failed'],
    ]);
    expect(tests[1]!.failureMessages.join('\n')).toMatch(/Expected: string, Actual: number|Expected string, Actual number/);
    expect([result.numPassedTests, result.numFailedTests]).toEqual([1, 1]);
  });
});
