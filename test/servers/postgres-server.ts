/**
 * A throw-away PostgreSQL server for tests: `initdb` into a fresh temp folder,
 * started on 127.0.0.1 on a free port with trust auth, stopped and removed by
 * `destroy()`.
 *
 * Availability is decided synchronously by {@link postgresUnavailableReason},
 * so a test file can skip its suites with `describe.skipIf(...)` at collection
 * time; {@link startPostgres} returns `undefined` in exactly the same cases.
 * Once the binaries are there, a failure to start is a real error, not a skip.
 *
 * The binaries are taken from `OAAS_PG_BIN` when set, else from the newest
 * `/usr/lib/postgresql/<major>/bin` (Debian and Ubuntu), else from `PATH`.
 * PostgreSQL refuses to run as root, so under root every command runs as the
 * `postgres` OS user through `runuser`, in a folder owned by that user.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { skipReasonOrFail } from './required.js';

const run = promisify(execFile);
const TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;
/** Every wait on the server is bounded by this (pg_ctl -t, and the command timeout around it). */
const WAIT_SECONDS = 30;

/** A running throw-away server. */
export interface PostgresServer {
  /** Connection string of the database created at start (`oaas`), as the `postgres` superuser. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Creates a fresh, empty database and returns its connection string. */
  createDatabase(): Promise<string>;
  /** Drops a database {@link createDatabase} made, closing any connection still open to it. */
  dropDatabase(url: string): Promise<void>;
  /** Fast shutdown: running transactions are rolled back, the data is kept. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server (if running) and removes its folder. Idempotent. */
  destroy(): Promise<void>;
}

interface Tools {
  readonly bin: string;
  /** Set when running as root: commands run as this user. */
  readonly runAs: { readonly name: string; readonly uid: number; readonly gid: number } | undefined;
}

let probed: { tools?: Tools; reason?: string } | undefined;

/** Why no server can be started here, or `undefined` when one can. Synchronous, cached. Throws in CI instead of giving a reason. */
export function postgresUnavailableReason(): string | undefined {
  probed ??= probe();
  return skipReasonOrFail('PostgreSQL', probed.reason);
}

function probe(): { tools?: Tools; reason?: string } {
  const bin = findBin();
  if (bin === undefined) return { reason: 'no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; set OAAS_PG_BIN to their folder' };
  if (process.getuid?.() !== 0) return { tools: { bin, runAs: undefined } };
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser')) {
      return { reason: 'running as root, but runuser is missing to drop to the postgres user' };
    }
    return { tools: { bin, runAs: { name: 'postgres', uid, gid } } };
  } catch {
    return { reason: 'running as root and there is no postgres OS user to run the server as' };
  }
}

function findBin(): string | undefined {
  const hasTools = (dir: string): boolean => TOOLS.every((tool) => existsSync(join(dir, tool)));
  const candidates: string[] = [];
  if (process.env.OAAS_PG_BIN !== undefined) return hasTools(process.env.OAAS_PG_BIN) ? process.env.OAAS_PG_BIN : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const majors = readdirSync(debian).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => join(debian, major, 'bin')));
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== ''));
  return candidates.find(hasTools);
}

/**
 * Starts a fresh server, or resolves `undefined` when
 * {@link postgresUnavailableReason} gives a reason. Call `destroy()` in
 * teardown; a watchdog also stops the server and removes its folder when this
 * process exits without doing so (even on SIGKILL).
 */
export async function startPostgres(): Promise<PostgresServer | undefined> {
  postgresUnavailableReason();
  const tools = probed?.tools;
  if (tools === undefined) return undefined;
  const root = await mkdtemp(join(tmpdir(), 'oaas-pg-'));
  const dataDir = join(root, 'data');
  const log = join(root, 'server.log');
  const exec = async (tool: string, args: readonly string[]): Promise<void> => {
    const file = join(tools.bin, tool);
    const [command, argv] = tools.runAs === undefined ? [file, args] : ['runuser', ['-u', tools.runAs.name, '--', file, ...args]];
    try {
      await run(command, argv, { cwd: root, timeout: (WAIT_SECONDS + 5) * 1000 });
    } catch (error) {
      const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
      throw new Error(`${tool} ${args.join(' ')} failed: ${stderr || stdout || String(error)}`, { cause: error });
    }
  };
  let watchdog: ChildProcess | undefined;
  let running = false;
  const start = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', dataDir, '-l', log, '-w', '-t', String(WAIT_SECONDS), 'start']);
    running = true;
  };
  const stop = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', String(WAIT_SECONDS), 'stop']);
    running = false;
  };
  /** Immediate shutdown, for when a fast one failed: the folder must not go while the server still runs. */
  const kill = async (): Promise<void> => {
    await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', String(WAIT_SECONDS), 'stop']);
    running = false;
  };
  try {
    if (tools.runAs !== undefined) await chown(root, tools.runAs.uid, tools.runAs.gid);
    await exec('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freePort();
    const settings = {
      listen_addresses: "'127.0.0.1'",
      port: String(port),
      unix_socket_directories: `'${root}'`,
      fsync: 'on',
      synchronous_commit: 'on',
      max_connections: '200',
      shared_buffers: '32MB',
    };
    await appendFile(join(dataDir, 'postgresql.conf'), `\n${Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`);
    watchdog = startWatchdog(tools, dataDir, root);
    await start();
    const base = `postgres://postgres@127.0.0.1:${port}`;
    await admin(`${base}/postgres`, 'CREATE DATABASE oaas');
    let databases = 0;
    let destroyed = false;
    const guard = watchdog;
    return {
      url: `${base}/oaas`,
      port,
      dataDir,
      async createDatabase() {
        databases += 1;
        const name = `oaas_${databases}_${process.pid}`;
        await admin(`${base}/postgres`, `CREATE DATABASE ${name}`);
        return `${base}/${name}`;
      },
      async dropDatabase(url) {
        const name = new URL(url).pathname.slice(1);
        if (!/^oaas_\d+_\d+$/.test(name)) throw new Error(`not a database createDatabase() made: ${name}`);
        // Not DROP ... WITH (FORCE): that needs PostgreSQL 13, and CI installs whatever its distribution ships.
        await admin(`${base}/postgres`, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
        await admin(`${base}/postgres`, `DROP DATABASE IF EXISTS ${name}`);
      },
      stop,
      start,
      async destroy() {
        if (destroyed) return;
        destroyed = true;
        try {
          if (running) await stop().catch(() => kill());
        } finally {
          await rm(root, { recursive: true, force: true });
          guard.stdin?.end();
        }
      },
    };
  } catch (error) {
    if (running) await kill().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    watchdog?.stdin?.end();
    throw error;
  }
}

/**
 * A shell that waits for end-of-file on its stdin, then stops the server at
 * once and removes the folder. Only this process holds the pipe's other end,
 * so the shell reads EOF whenever this process ends, however it ends.
 */
function startWatchdog(tools: Tools, dataDir: string, root: string): ChildProcess {
  const script = 'read _ignored; "$3" -D "$1" -m immediate -w -t 30 stop >/dev/null 2>&1; rm -rf "$2"';
  const args = ['-c', script, 'watchdog', dataDir, root, join(tools.bin, 'pg_ctl')];
  const child =
    tools.runAs === undefined
      ? spawn('/bin/sh', args, { stdio: ['pipe', 'ignore', 'ignore'], cwd: root })
      : spawn('runuser', ['-u', tools.runAs.name, '--', '/bin/sh', ...args], { stdio: ['pipe', 'ignore', 'ignore'], cwd: root });
  child.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as Socket | null)?.unref();
  return child;
}

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: WAIT_SECONDS * 1000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A port the OS says is free now (bound to port 0, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}
