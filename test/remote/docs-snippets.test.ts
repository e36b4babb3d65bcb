// The snippets of docs/remote.md, run as written (the package import pointed at src/, the port at a free
// one) on fresh stores: counter, server and client against a real server process; job and stream in process.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';

const doc = readFileSync(new URL('../../docs/remote.md', import.meta.url), 'utf8');
const sdk = fileURLToPath(new URL('../../src/index.js', import.meta.url));

const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

/** The ```ts block of docs/remote.md whose first line is `// <name>`, or that contains `text`; the package import pointed at src/. */
function snippet(name: string, text = `// ${name}\n`): string {
  const block = blocks.find((code) => (text.startsWith('// ') ? code.startsWith(text) : code.includes(text)));
  if (block === undefined) throw new Error(`docs/remote.md has no snippet ${name}`);
  return block.replaceAll(`'oaas-sdk'`, JSON.stringify(sdk));
}

function write(name: string, code: string): void {
  writeFileSync(join(dir, name), code);
}

/** Runs a script of `dir` through tsx, with the tsconfig written there; resolves with what it printed. */
async function run(name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const child = new TsChild(join(dir, name), [], { ...env, TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json') });
  const [code] = await child.exit();
  expect(code, child.stderr).toBe(0);
  return child.lines;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'oaas-remote-doc-'));
writeFileSync(
  join(dir, 'tsconfig.json'),
  JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', experimentalDecorators: true, emitDecoratorMetadata: true } }),
);
writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/remote.md', () => {
  it('the counter, server and client snippets work on a fresh store', async () => {
    const port = await freePort();
    for (const name of ['counter.ts', 'server.ts', 'client.ts']) write(name, snippet(name).replaceAll('8080', String(port)));
    // The options of connect(), asked whether the server is ready.
    write('options.ts', `${snippet('connect() options', 'timeoutMs: 30_000').replaceAll('8080', String(port))}\nconsole.log(await client.ready());\n`);
    const env = { TSX_TSCONFIG_PATH: join(dir, 'tsconfig.json'), OAAS_STORE: `sqlite:${join(dir, 'state.db')}`, OAAS_LOG_LEVEL: 'silent', API_TOKEN: 'doc-token' };

    const server = new TsChild(join(dir, 'server.ts'), [], env);
    try {
      const started = Date.now();
      for (;;) {
        const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (up) break;
        if (server.process.exitCode !== null || Date.now() - started > 15_000) throw new Error(`the server snippet did not listen: ${server.stderr}`);
        await sleep(50);
      }
      expect(await run('client.ts', env)).toEqual(['2']);
      expect(await run('options.ts', env)).toEqual(['true']);
    } finally {
      // To tsx alone, which relays it once: the snippet handles one SIGTERM (`process.once`), a second one kills.
      server.process.kill('SIGTERM');
      const [code, signal] = await server.exit();
      expect([code, signal], server.stderr).toEqual([0, null]);
    }
  });

  it('the job and streaming snippets work through the in-process app snippet, on a fresh store', async () => {
    write('job.ts', snippet('job.ts'));
    const script = [
      `import { configureOaas, connect, createApp, shutdown } from ${JSON.stringify(sdk)};`,
      `import { Job } from './job.js';`,
      `await configureOaas({ store: ${JSON.stringify(`sqlite:${join(dir, 'stream.db')}`)}, logLevel: 'silent' });`,
      snippet('createApp in process', 'const app = createApp();'),
      snippet('stream.ts'),
      'await shutdown();',
    ];
    write('stream.ts', script.join('\n'));
    expect(await run('stream.ts', {})).toEqual(['1', '2', '3']);
  });
});
