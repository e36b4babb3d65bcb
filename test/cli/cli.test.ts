import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { USAGE, parseCliArgs } from '../../src/cli/args.js';
import { runCli, type CliEnvironment, type RunningServer, type ServeFunction } from '../../src/cli/main.js';
import type { PackageDocument } from '../../src/package/package-export.js';
import { TsChild } from '../support/child.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
// Relative on purpose: the CLI resolves module paths against the working directory (the repository here).
const services = 'test/cli/fixtures/services.ts';

/** Runs the CLI the way users run it on TypeScript modules: `node <tsx cli> src/cli.ts ...`. */
async function oaas(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = new TsChild(cli, args, { OAAS_MOCK_MODE: '1', ...env });
  const [code] = await child.exit(30_000);
  return { code, stdout: child.stdout, stderr: child.stderr };
}

function memoryStream(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  });
  return { stream, text: () => text };
}

/** An in-process environment with a fake server and an immediate stop signal. */
function fakeEnvironment(serve: ServeFunction, env: NodeJS.ProcessEnv = {}) {
  const stdout = memoryStream();
  const stderr = memoryStream();
  const environment: CliEnvironment = {
    stdout: stdout.stream,
    stderr: stderr.stream,
    cwd: repo,
    env,
    loadServe: () => Promise.resolve(serve),
    waitForStop: () => Promise.resolve('SIGTERM'),
  };
  return { environment, stdout: stdout.text, stderr: stderr.text };
}

describe('oaas pkg (child process, through tsx)', () => {
  it('prints the package document of the module as JSON', async () => {
    const { code, stdout, stderr } = await oaas(['pkg', services, '--format', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const doc = JSON.parse(stdout) as PackageDocument;
    expect(doc).toMatchObject({ name: 'shop', version: '0.1.0', metadata: {} });
    expect(doc.classes.map((c) => c.key)).toEqual(['Cart', 'Inventory']);
    expect(doc.classes[0]).toEqual({
      key: 'Cart',
      description: 'a shopping cart',
      state_spec: {
        key_specs: [
          { name: 'items', key_type: 'array' },
          { name: 'total', key_type: 'number' },
          { name: 'memo', key_type: 'string' },
        ],
      },
      // tsx (esbuild) emits no decorator metadata: parameter types are unknown, their number is not.
      function_bindings: [
        { name: 'add', function_key: 'Cart.add', access_modifier: 'PUBLIC', stateless: false, parameters: ['any', 'any'] },
        { name: 'quote', function_key: 'Cart.quote', access_modifier: 'PUBLIC', stateless: true, parameters: ['any', 'any'] },
      ],
    });
    expect(doc.functions.map((f) => f.key)).toEqual(['Cart.add', 'Cart.quote', 'Inventory.restock']);
  });

  it('prints YAML by default, with the name and version given', async () => {
    const yaml = await oaas(['pkg', services, '--name', 'store', '--version', '1.4.0']);
    expect(yaml.code).toBe(0);
    const doc = parse(yaml.stdout) as PackageDocument;
    expect(doc).toMatchObject({ name: 'store', version: '1.4.0' });
    expect(doc.functions).toHaveLength(3);
  });

  it('exits 2 with the usage on stderr for bad usage', async () => {
    for (const args of [[], ['deploy'], ['pkg'], ['pkg', services, '--format', 'xml'], ['pkg', services, '--bogus']]) {
      const { code, stdout, stderr } = await oaas(args);
      expect(code, args.join(' ')).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain('Usage:');
    }
  });

  it('exits 1 when the module does not exist or fails to import', async () => {
    const missing = await oaas(['pkg', 'test/cli/fixtures/nope.ts']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot import test\/cli\/fixtures\/nope\.ts: .*nope\.ts does not exist/);
    const broken = await oaas(['pkg', 'test/cli/fixtures/broken.ts']);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('boom while loading the services');
    expect(broken.stdout).toBe('');
  });
});

describe('oaas serve (child process)', () => {
  it('serves the module, answers /healthz, and exits 0 on SIGTERM', async () => {
    const child = new TsChild(cli, ['serve', services, '--port', '0'], { OAAS_MOCK_MODE: '1' });
    try {
      await child.waitFor((line) => line.startsWith('listening on '), 30_000);
      const url = child.lines.find((line) => line.startsWith('listening on '))!.slice('listening on '.length);
      const response = await fetch(new URL('/healthz', url));
      expect(response.status).toBe(200);
    } finally {
      child.signal('SIGTERM');
    }
    const [code] = await child.exit(30_000);
    expect(code, child.stderr).toBe(0);
    expect(child.stderr).toContain('oaas serve: SIGTERM, stopping');
  });
});

describe('runCli (in process)', () => {
  it('prints the help on stdout and exits 0', async () => {
    const { environment, stdout, stderr } = fakeEnvironment(() => Promise.reject(new Error('unused')));
    expect(await runCli(['--help'], environment)).toBe(0);
    expect(stdout()).toBe(USAGE);
    expect(stderr()).toBe('');
  });

  it('serves with the parsed options, prints the URL, and closes the server and the runtime on the stop signal', async () => {
    const close = vi.fn(() => Promise.resolve());
    const serve = vi.fn<ServeFunction>((options) => Promise.resolve<RunningServer>({ url: `http://127.0.0.1:${options.port ?? 0}`, port: options.port ?? 0, close }));
    const { environment, stdout, stderr } = fakeEnvironment(serve, { HTTP_PORT: '9090' });
    expect(await runCli(['serve', services, '--host', '127.0.0.1', '--token', 's3cret'], environment)).toBe(0);
    expect(serve).toHaveBeenCalledWith({ port: 9090, host: '127.0.0.1', token: 's3cret' });
    expect(stdout()).toBe('listening on http://127.0.0.1:9090\n');
    expect(stderr()).toBe('oaas serve: SIGTERM, stopping\n');
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('exits 1 when the server cannot start or cannot close', async () => {
    const failing = fakeEnvironment(() => Promise.reject(new Error('EADDRINUSE')));
    expect(await runCli(['serve', services], failing.environment)).toBe(1);
    expect(failing.stderr()).toBe('oaas serve: EADDRINUSE\n');

    const stuck = fakeEnvironment(() => Promise.resolve({ url: 'http://x', port: 1, close: () => Promise.reject(new Error('close failed')) }));
    expect(await runCli(['serve', services], stuck.environment)).toBe(1);
    expect(stuck.stderr()).toContain('oaas serve: stopping failed: close failed');
  });
});

describe('parseCliArgs', () => {
  it('takes the port from --port, else HTTP_PORT, else 8080', () => {
    expect(parseCliArgs(['serve', 'm.js', '--port', '0'], { HTTP_PORT: '9000' })).toMatchObject({ command: 'serve', module: 'm.js', port: 0 });
    expect(parseCliArgs(['serve', 'm.js'], { HTTP_PORT: '9000' })).toMatchObject({ port: 9000 });
    expect(parseCliArgs(['serve', 'm.js'], { HTTP_PORT: '' })).toMatchObject({ port: 8080, host: undefined, token: undefined });
  });

  it('reports usage errors instead of throwing', () => {
    const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
      [['serve', 'm.js', '--port', '70000'], {}, /--port must be a port number/],
      [['serve', 'm.js', '--port', 'x'], {}, /--port must be a port number/],
      [['serve', 'm.js'], { HTTP_PORT: 'eighty' }, /HTTP_PORT must be a port number/],
      [['serve', 'm.js', '--port'], {}, /--port/],
      [['serve', 'a.js', 'b.js'], {}, /unexpected argument "b.js"/],
      [['serve', 'm.js', '--token', ''], {}, /--token must not be empty/],
      [['pkg', 'm.js', '--format', 'toml'], {}, /--format must be yaml or json/],
      [['pkg', 'm.js', '--port', '1'], {}, /Unknown option '--port'/],
      [['help', 'me'], {}, /unexpected argument "me"/],
    ];
    for (const [argv, env, message] of cases) {
      const parsed = parseCliArgs(argv, env);
      expect(parsed.command, argv.join(' ')).toBe('usage-error');
      expect(parsed.command === 'usage-error' ? parsed.message : '').toMatch(message);
    }
  });

  it('parses pkg with its defaults', () => {
    expect(parseCliArgs(['pkg', 'm.js'])).toEqual({ command: 'pkg', module: 'm.js', format: 'yaml', name: undefined, version: undefined, description: undefined });
    expect(parseCliArgs(['pkg', 'm.js', '--format=json', '--name', 'n', '--version', '2.0.0'])).toMatchObject({ format: 'json', name: 'n', version: '2.0.0' });
  });
});
