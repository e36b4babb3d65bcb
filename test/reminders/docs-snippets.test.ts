// The snippets of docs/reminders.md, run as written (the package import pointed at src/): the Invoice class at the
// top of the page under the fake clock of "Testing with fake time", 30 days in one advance().
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { TsChild } from '../support/child.js';

const doc = readFileSync(new URL('../../docs/reminders.md', import.meta.url), 'utf8');
const sdk = fileURLToPath(new URL('../../src/index.js', import.meta.url));
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

function snippet(text: string): string {
  const block = blocks.find((code) => code.includes(text));
  if (block === undefined) throw new Error(`docs/reminders.md has no snippet with ${text}`);
  return block.replaceAll(`'oaas-sdk'`, JSON.stringify(sdk));
}

it('the Invoice snippet, under the ManualClock snippet, reminds every 7 days and charges on day 30, once', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'oaas-reminders-doc-'));
  try {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', experimentalDecorators: true, emitDecoratorMetadata: true } }),
    );
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    // What the page leaves to the application: a mailer and a payment service, here recording their calls.
    const services = [
      'const calls: string[] = [];',
      "const mailer = { async send(..._args: unknown[]): Promise<void> { calls.push('mail'); } };",
      'const payments = { async charge(key: string, amount: number): Promise<void> { calls.push(`charge ${key} ${amount}`); } };',
    ].join('\n');
    const script = [
      snippet("@service('Invoice'").replace('\nconst DAY', `\n${services}\nconst DAY`),
      snippet('class ManualClock'),
      'console.log(calls.join(","));',
      'console.log(invoice.schedules.length);',
      `const { shutdown } = await import(${JSON.stringify(sdk)});`,
      'await shutdown();',
    ].join('\n');
    writeFileSync(join(dir, 'fake-time.ts'), script);
    const child = new TsChild(join(dir, 'fake-time.ts'), [], { TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'), OAAS_LOG_LEVEL: 'silent' });
    const [code] = await child.exit(45_000);
    expect(code, child.stderr).toBe(0);
    // Days 7, 14, 21 and 28, then the charge on day 30, which stops the reminders: nothing is left scheduled.
    expect(child.lines).toEqual(['charged', 'mail,mail,mail,mail,charge invoice-inv-1 100', '0']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
