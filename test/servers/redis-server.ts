/**
 * A throw-away redis-server for tests: a child process on a free port of
 * 127.0.0.1, with its data in a fresh temp folder.
 *
 * It runs with `appendonly yes` and `appendfsync always`, so a write is on
 * disk before Redis acknowledges it, as a production store would be set up.
 *
 * No server outlives the test run: redis-server runs under a small `sh`
 * watchdog whose stdin is a pipe only this process holds. When this process
 * exits, however it dies, the pipe closes and the watchdog stops Redis. A
 * `process.on('exit')` hook also kills every server still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { skipReasonOrFail } from './required.js';

/** A running (or stopped) test server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The data folder, kept across {@link stop} and {@link start}. */
  readonly dir: string;
  /** Shuts Redis down gracefully (SIGTERM: it finishes its AOF writes), keeping the data folder. */
  stop(): Promise<void>;
  /** Kills Redis with SIGKILL, as a crash would; keeps the data folder. */
  kill(): Promise<void>;
  /** Starts Redis again on the same port and folder, after {@link stop} or {@link kill}. */
  start(): Promise<void>;
  /** Stops Redis and deletes the data folder. */
  destroy(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Runs redis-server and exits when it exits. A background reader holds stdin
 * (moved to fd 3: background jobs get /dev/null as stdin) and sends Redis
 * SIGTERM at end of file: when the test process closes the pipe, or exits in
 * any way. It prints redis-server's pid first, so a test can signal Redis
 * directly.
 */
const WATCHDOG = `
"$0" "$@" &
pid=$!
echo "redis-pid $pid"
exec 3<&0
( while read -r _ <&3; do :; done; kill -TERM "$pid" 2>/dev/null ) &
exec 3<&-
wait "$pid"
`;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every server this process started; runs at exit, when only synchronous work is possible. */
function killAll(): void {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Why {@link startRedis} would return `undefined` (no `redis-server` on
 * PATH), or `undefined` when it can start a server. Test files call it at
 * collection time to skip their Redis suites with this reason. In CI it
 * rejects instead (see `required.ts`).
 */
export async function redisUnavailableReason(): Promise<string | undefined> {
  return skipReasonOrFail('Redis', (await findBinary()) === undefined ? `no redis-server executable on PATH (${process.env.PATH ?? ''})` : undefined);
}

/**
 * Starts a fresh server, or returns `undefined` when `redis-server` is not
 * installed; {@link redisUnavailableReason} tells why. A binary that is
 * present but fails to start throws: that is a broken setup, not a reason to
 * skip.
 */
export async function startRedis(): Promise<RedisServer | undefined> {
  const binary = await findBinary();
  if (binary === undefined) return undefined;
  if (!exitHookInstalled) {
    process.on('exit', killAll);
    exitHookInstalled = true;
  }
  const dir = await mkdtemp(join(tmpdir(), 'oaas-redis-'));
  // The free port may be taken between probing and binding; try a few.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const instance = new Instance(binary, port, dir);
    try {
      await instance.start();
      return instance;
    } catch (error) {
      await instance.stop();
      if (attempt >= 3 || !instance.output.includes('Address already in use')) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
}

class Instance implements RedisServer {
  readonly url: string;
  private watchdog: ChildProcess | undefined;
  private redisPid: number | undefined;
  /** The last lines Redis printed, for failure messages. */
  output = '';

  constructor(private readonly binary: string, readonly port: number, readonly dir: string) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    if (this.watchdog !== undefined) throw new Error(`redis-server on port ${this.port} is already running`);
    const args = ['-c', WATCHDOG, this.binary, '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes',
      '--appendfsync', 'always', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning'];
    // Its own process group, so a forced stop reaches the watchdog and Redis together.
    const child = spawn('sh', args, { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.watchdog = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    this.output = '';
    const collect = (chunk: string): void => {
      this.output = (this.output + chunk).slice(-4000);
      const pid = /redis-pid (\d+)/.exec(this.output)?.[1];
      if (pid !== undefined && this.redisPid === undefined) this.redisPid = Number(pid);
    };
    child.stdout?.setEncoding('utf8').on('data', collect);
    child.stderr?.setEncoding('utf8').on('data', collect);
    await this.waitForPong();
  }

  async stop(): Promise<void> {
    const child = this.watchdog;
    if (child === undefined) return;
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
    child.stdin?.end(); // the watchdog sends SIGTERM and waits for Redis to exit
    const timer = setTimeout(() => this.killGroup(child), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    this.watchdog = undefined;
    this.redisPid = undefined;
  }

  async kill(): Promise<void> {
    if (this.redisPid !== undefined) {
      try {
        process.kill(this.redisPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.stop();
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private killGroup(child: ChildProcess): void {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Polls PING until Redis answers PONG (it answers LOADING while reading its AOF), bounded. */
  private async waitForPong(): Promise<void> {
    const started = Date.now();
    for (;;) {
      const child = this.watchdog;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server on port ${this.port} exited during start:\n${this.output}`);
      if (await ping(this.port)) return;
      if (Date.now() - started > START_TIMEOUT_MS) throw new Error(`redis-server on port ${this.port} did not answer PING within ${START_TIMEOUT_MS} ms:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

async function findBinary(): Promise<string | undefined> {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, 'redis-server');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A port the OS just handed out, so very likely still free. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/** True when a server on the port answers PING with PONG within a second. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
