/**
 * The package as an application gets it: `npm pack`, then `npm install` of
 * the tarball into a fresh folder (without the optional peers `pg`, `ioredis`
 * and the gRPC packages), then the README's quick start compiled with plain
 * `tsc` and run with node, a CommonJS program, and the stores (and the gRPC
 * runtime) whose drivers are missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const nodeTypes = (JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;

interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Children still running, each the leader of its own process group (npm starts compilers of its own). */
const running = new Set<ChildProcess>();

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-(child.pid ?? 0), 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs a command to its end, killing its whole process group if it outlasts `timeoutMs`. */
function run(command: string, args: readonly string[], cwd: string, timeoutMs: number): Promise<Result> {
  // Nothing of this test run may leak in: npm's variables of an `npm test`, the SDK's settings, a debugger.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(npm_|OAAS_|NODE_OPTIONS$|VITEST)/i.test(name)));
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    stderr += `\n[killed after ${timeoutMs} ms]`;
    killGroup(child);
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like {@link run}, failing with everything the command printed unless it exits with 0. */
async function succeed(command: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Result> {
  const result = await run(command, args, cwd, timeoutMs);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.code ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** The README's quick start: the first TypeScript block after its heading, exactly as a reader copies it. */
function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error('README.md has no ```ts block under "## Quick start"');
  return code;
}

/** A tsconfig as an application would write it, with the library's declarations checked too. */
function tsconfig(include: string, outDir: string, extra: Record<string, unknown> = {}): string {
  const compilerOptions = { target: 'ES2022', module: 'nodenext', strict: true, skipLibCheck: false, types: ['node'], outDir, rootDir: include, ...extra };
  return `${JSON.stringify({ compilerOptions, include: [include] }, null, 2)}\n`;
}

/** Prints the lines a script wrote to stdout, without the SDK's JSON log lines. */
const lines = (result: Result): string[] => result.stdout.split('\n').filter((line) => line !== '' && !line.startsWith('{"level"'));

describe('the packed package installed into a fresh application', () => {
  let work: string;
  let app: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'oaas-tarball-'));
    app = join(work, 'app');
    await mkdir(app);
    // prepack builds dist/ first.
    await succeed('npm', ['pack', '--pack-destination', work, '--no-fund', '--no-audit'], root, 120_000);
    const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack left no tarball in ${work}`);
    await writeFile(join(app, 'package.json'), `${JSON.stringify({ name: 'tarball-app', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
    // better-sqlite3 may compile from source here; the rest comes from npm's cache when it can.
    await succeed('npm', ['install', join(work, tarball), `@types/node@${nodeTypes}`, '--prefer-offline', '--no-fund', '--no-audit'], app, 240_000);
  }, 300_000);

  afterAll(async () => {
    for (const child of running) killGroup(child);
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('installs without the optional peers, and ships the sources its maps point at', async () => {
    expect(existsSync(join(app, 'node_modules/oaas-sdk/dist/index.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/pg'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/ioredis'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@grpc/grpc-js'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/oaas-sdk/LICENSE'))).toBe(true);
    const dist = join(app, 'node_modules/oaas-sdk/dist');
    const maps = (await readdir(dist, { recursive: true })).filter((name) => name.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    const unresolved = maps.flatMap((name) => {
      const map = JSON.parse(readFileSync(join(dist, name), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      return map.sources.filter((source, i) => typeof map.sourcesContent?.[i] !== 'string' && !existsSync(join(dist, name, '..', source))).map((source) => `${name}: ${source}`);
    });
    expect(unresolved).toEqual([]);
  });

  it('type-checks every entry point without @types/pg, ioredis or the gRPC packages, with skipLibCheck off', async () => {
    const dir = join(app, 'entry-points');
    await mkdir(dir);
    await writeFile(
      join(dir, 'all.ts'),
      [
        "import { OaasObject, configureOaas, type OaasConfig, type Store } from 'oaas-sdk';",
        "import { SqliteStore } from 'oaas-sdk/stores/sqlite';",
        "import { PostgresStore, type PostgresPool, type PostgresStoreOptions } from 'oaas-sdk/stores/postgres';",
        "import { RedisStore, type RedisClient, type RedisStoreOptions } from 'oaas-sdk/stores/redis';",
        "import { OdgmStore, type OdgmStoreOptions } from 'oaas-sdk/stores/odgm';",
        "import { serve } from 'oaas-sdk/server';",
        "import { connect } from 'oaas-sdk/client';",
        "import { serveGrpc, type GrpcServeOptions, type RunningGrpcServer } from 'oaas-sdk/grpc';",
        'const grpcOptions: GrpcServeOptions = { port: 0, host: "0.0.0.0" };',
        'const running: Promise<RunningGrpcServer> | undefined = process.env.NEVER === "1" ? serveGrpc(grpcOptions) : undefined;',
        'const stores: Store[] = [new SqliteStore({ path: ":memory:" }), new PostgresStore({ url: "postgres://h/db" }), new RedisStore({ url: "redis://h" }), new OdgmStore({ address: "h:8080" })];',
        'const options: [PostgresStoreOptions, RedisStoreOptions, OdgmStoreOptions, PostgresPool?, RedisClient?] = [{ url: "postgres://h/db" }, { url: "redis://h" }, { address: "h:8080" }];',
        'const config: OaasConfig = { store: stores[0] };',
        'console.log(typeof OaasObject, typeof configureOaas, typeof serve, typeof connect, typeof serveGrpc, typeof running, stores.length, options.length, typeof config);',
        '',
      ].join('\n'),
    );
    await writeFile(join(app, 'tsconfig.entry-points.json'), tsconfig('entry-points', 'out/entry-points'));
    await succeed('node', [tsc, '-p', 'tsconfig.entry-points.json'], app);
    const result = await succeed('node', ['out/entry-points/all.js'], app);
    expect(lines(result)).toEqual(['function function function function function undefined 4 3 object']);
  }, 60_000);

  /** Compiles the quick start with `compilerOptions` and runs it twice: the count must carry over. */
  async function runQuickStart(name: string, compilerOptions: Record<string, unknown>): Promise<void> {
    await mkdir(join(app, name));
    await writeFile(join(app, name, 'main.ts'), quickStart());
    await writeFile(join(app, `tsconfig.${name}.json`), tsconfig(name, `out/${name}`, compilerOptions));
    await succeed('node', [tsc, '-p', `tsconfig.${name}.json`], app);
    const out = join(app, 'out', name);
    const first = await succeed('node', ['main.js'], out);
    const second = await succeed('node', ['main.js'], out);
    expect([...lines(first), ...lines(second)]).toEqual(['1', '2']);
    expect(existsSync(join(out, '.oaas/state.db'))).toBe(true);
  }

  it('runs the README quick start with standard decorators', async () => {
    await runQuickStart('standard', {});
  }, 60_000);

  it('runs the README quick start with experimentalDecorators and emitDecoratorMetadata', async () => {
    await runQuickStart('legacy', { experimentalDecorators: true, emitDecoratorMetadata: true });
  }, 60_000);

  it('works from CommonJS: require() of every entry point, and an object committed and reloaded in a new runtime', async () => {
    const dir = join(app, 'cjs');
    await mkdir(dir);
    // TypeScript compiles the imports of a .cts file to require() calls.
    await writeFile(
      join(dir, 'main.cts'),
      [
        "import { OaasObject, commitAll, configureOaas, method, service, shutdown } from 'oaas-sdk';",
        '',
        "@service('Tally', { package: 'cjs' })",
        'class Tally extends OaasObject {',
        '  total = 0;',
        '  seen: string[] = [];',
        '',
        '  @method()',
        '  async add(amount: number, from: string): Promise<number> {',
        '    this.total += amount;',
        '    this.seen.push(from);',
        '    return this.total;',
        '  }',
        '}',
        '',
        'async function main(): Promise<void> {',
        "  const store = `sqlite:${__dirname}/state.db`;",
        '  await configureOaas({ store });',
        "  const tally = Tally.create({}, { id: 'tally-1' });",
        "  await tally.add(2, 'a');",
        "  await tally.add(3, 'b');",
        '  await commitAll();',
        '  await configureOaas({ store }); // a new runtime: nothing live, everything read from the store',
        "  const again = await Tally.load('tally-1');",
        '  console.log(JSON.stringify({ fresh: again !== tally, total: again.total, seen: again.seen, version: again.version }));',
        '  await shutdown();',
        '}',
        '',
        'main().catch((error: unknown) => {',
        '  console.error(error);',
        '  process.exitCode = 1;',
        '});',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'entry-points.cjs'),
      [
        'const entryPoints = {',
        "  'oaas-sdk': ['configureOaas', 'OaasObject', 'service', 'method'],",
        "  'oaas-sdk/stores/sqlite': ['SqliteStore'],",
        "  'oaas-sdk/stores/postgres': ['PostgresStore'],",
        "  'oaas-sdk/stores/redis': ['RedisStore'],",
        "  'oaas-sdk/stores/odgm': ['OdgmStore'],",
        "  'oaas-sdk/server': ['serve'],",
        "  'oaas-sdk/client': ['connect'],",
        "  'oaas-sdk/grpc': ['serveGrpc'],",
        '};',
        'for (const [id, names] of Object.entries(entryPoints)) {',
        '  const module = require(id);',
        "  console.log(`${id}: ${names.map((name) => `${name} ${typeof module[name]}`).join(', ')}`);",
        '}',
        '',
      ].join('\n'),
    );
    await writeFile(join(app, 'tsconfig.cjs.json'), tsconfig('cjs', 'out/cjs', { experimentalDecorators: true, emitDecoratorMetadata: true }));
    await succeed('node', [tsc, '-p', 'tsconfig.cjs.json'], app);
    expect(readFileSync(join(app, 'out/cjs/main.cjs'), 'utf8')).toContain('require("oaas-sdk")');

    const entryPoints = await succeed('node', [join(dir, 'entry-points.cjs')], app);
    expect(lines(entryPoints)).toEqual([
      'oaas-sdk: configureOaas function, OaasObject function, service function, method function',
      'oaas-sdk/stores/sqlite: SqliteStore function',
      'oaas-sdk/stores/postgres: PostgresStore function',
      'oaas-sdk/stores/redis: RedisStore function',
      'oaas-sdk/stores/odgm: OdgmStore function',
      'oaas-sdk/server: serve function',
      'oaas-sdk/client: connect function',
      'oaas-sdk/grpc: serveGrpc function',
    ]);
    expect(entryPoints.stderr).toBe('');

    const result = await succeed('node', ['out/cjs/main.cjs'], app);
    expect(lines(result)).toEqual([JSON.stringify({ fresh: true, total: 5, seen: ['a', 'b'], version: 1 })]);
  }, 60_000);

  it('names the package to install when a server store or the cache finds its driver missing', async () => {
    const script = join(app, 'missing-drivers.mjs');
    await writeFile(
      script,
      [
        "import { configureOaas, shutdown } from 'oaas-sdk';",
        "import { PostgresStore } from 'oaas-sdk/stores/postgres';",
        "import { RedisStore } from 'oaas-sdk/stores/redis';",
        "import { OdgmStore } from 'oaas-sdk/stores/odgm';",
        "import { serveGrpc } from 'oaas-sdk/grpc';",
        '',
        '// Port 9 has no server: were a driver installed, these would fail to connect instead.',
        'const attempts = {',
        "  postgresStore: () => new PostgresStore({ url: 'postgres://127.0.0.1:9/app' }).open(),",
        "  postgresSpec: () => configureOaas({ store: 'postgres://127.0.0.1:9/app' }),",
        "  redisStore: () => new RedisStore({ url: 'redis://127.0.0.1:9' }).open(),",
        "  redisSpec: () => configureOaas({ store: 'redis://127.0.0.1:9' }),",
        "  cache: () => configureOaas({ store: 'memory', cache: 'redis://127.0.0.1:9' }),",
        "  odgmStore: () => new OdgmStore({ address: '127.0.0.1:9' }).open(),",
        "  odgmSpec: () => configureOaas({ store: 'odgm://127.0.0.1:9' }),",
        '  grpc: () => serveGrpc({ port: 0 }),',
        '};',
        'for (const [name, attempt] of Object.entries(attempts)) {',
        '  const outcome = await attempt().then(() => ({ opened: true }), (error) => ({ name: error.name, code: error.code, field: error.field, message: error.message }));',
        '  console.log(JSON.stringify({ [name]: outcome }));',
        '}',
        'await shutdown().catch(() => undefined);',
        '',
      ].join('\n'),
    );
    const result = await succeed('node', [script], app);
    const outcomes = Object.assign({}, ...lines(result).map((line) => JSON.parse(line) as object)) as Record<string, unknown>;
    const missing = (field: string, user: string, pkg: string) => ({
      name: 'ConfigurationError',
      code: 'OAAS_ERR_CONFIG_INVALID',
      field,
      message: `${field}: ${user} needs the "${pkg}" package, which is not installed; add it to the application: npm install ${pkg}`,
    });
    expect(outcomes).toEqual({
      postgresStore: missing('store', 'the postgres store', 'pg'),
      postgresSpec: missing('store', 'the postgres store', 'pg'),
      redisStore: missing('store', 'the redis store', 'ioredis'),
      redisSpec: missing('store', 'the redis store', 'ioredis'),
      cache: missing('cache', 'the redis cache', 'ioredis'),
      odgmStore: missing('store', 'the odgm store', '@grpc/grpc-js'),
      odgmSpec: missing('store', 'the odgm store', '@grpc/grpc-js'),
      grpc: missing('grpc', 'the gRPC function runtime', '@grpc/grpc-js'),
    });
  }, 60_000);
});
