// The serveGrpc snippet of docs/oparaca.md, run as written (the package imports pointed at src/, the services
// at the test fixture) in a child process on HTTP_PORT, called by a grpc-js client, then stopped with SIGTERM.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';
import { tempSqlite } from '../support/runtime.js';
import { json, oprcClient } from './support.js';

const doc = readFileSync(new URL('../../docs/oparaca.md', import.meta.url), 'utf8');
const src = (path: string) => JSON.stringify(fileURLToPath(new URL(`../../src/${path}`, import.meta.url)));
const fixture = JSON.stringify(fileURLToPath(new URL('./fixtures/services.ts', import.meta.url)));

const dir = mkdtempSync(join(tmpdir(), 'oaas-grpc-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('docs/oparaca.md', () => {
  it('serves with the serveGrpc snippet, and stops on SIGTERM', async () => {
    const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((code) => code.includes('serveGrpc('));
    expect(block).toBeDefined();
    const code = block!
      .replaceAll(`'oaas-sdk/grpc'`, src('grpc/serve-grpc.js'))
      .replaceAll(`'oaas-sdk'`, src('index.js'))
      .replaceAll(`'./services.js'`, fixture)
      .concat("\nprocess.stdout.write('ready\\n');\n");
    writeFileSync(join(dir, 'main.ts'), code);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', experimentalDecorators: true } }));
    const port = await freePort();
    const child = new TsChild(join(dir, 'main.ts'), [], { HTTP_PORT: String(port), OAAS_STORE: tempSqlite(), OAAS_LOG_LEVEL: 'silent', TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') });
    try {
      await child.waitFor((line) => line === 'ready', 30_000);
      const client = oprcClient(`127.0.0.1:${port}`);
      const reply = await client.invokeObj({ cls_id: 'e2e-ts-test.TsCounter', object_id: 'doc', fn_id: 'increment', payload: Buffer.from('{"amount": 5}') });
      client.close();
      expect(json(reply)).toBe(5);
    } finally {
      child.signal('SIGTERM');
    }
    const [exit] = await child.exit(30_000);
    expect(exit, child.stderr).toBe(0);
  }, 60_000);
});
