import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../servers/postgres-server.js';
import { redisUnavailableReason, startRedis, type RedisServer } from '../servers/redis-server.js';

/** A throw-away database server a suite can point stores at, stop and start. */
export interface TestServer {
  readonly kind: 'postgres' | 'redis';
  /** A store URL with nothing in it yet. */
  freshStore(): Promise<string>;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** Why each kind of server cannot run here (`undefined` when it can). Printed once by the suites that skip; rejects in CI (`CI=true`), where a missing server fails the run. */
export async function unavailable(kind: TestServer['kind']): Promise<string | undefined> {
  return kind === 'postgres' ? postgresUnavailableReason() : await redisUnavailableReason();
}

/** Starts a server of `kind`; `undefined` when its binaries are missing. */
export async function startServer(kind: TestServer['kind']): Promise<TestServer | undefined> {
  if (kind === 'postgres') {
    const server: PostgresServer | undefined = await startPostgres();
    if (server === undefined) return undefined;
    return { kind, freshStore: () => server.createDatabase(), stop: () => server.stop(), start: () => server.start(), destroy: () => server.destroy() };
  }
  const server: RedisServer | undefined = await startRedis();
  if (server === undefined) return undefined;
  let db = 0;
  // Redis has 16 numbered databases: each fresh store gets its own.
  return {
    kind,
    freshStore: () => Promise.resolve(`${server.url}/${String(db++ % 16)}`),
    stop: () => server.stop(),
    start: () => server.start(),
    destroy: () => server.destroy(),
  };
}

/**
 * Registers `body` once per shared store (PostgreSQL, Redis), each in its
 * own `describe` with a server started before its tests and destroyed after
 * them. A kind whose server cannot run here is skipped with its reason
 * printed (a failure in CI, see {@link unavailable}).
 */
export async function describeOnSharedStores(title: (kind: TestServer['kind']) => string, body: (server: TestServer, kind: TestServer['kind']) => void): Promise<void> {
  const { afterAll, beforeAll, describe } = await import('vitest');
  for (const kind of ['postgres', 'redis'] as const) {
    const reason = await unavailable(kind);
    if (reason !== undefined) console.log(`${title(kind)}: skipped: ${reason}`);
    describe.skipIf(reason !== undefined)(title(kind), () => {
      let started: TestServer | undefined;
      const server: TestServer = {
        kind,
        freshStore: () => started!.freshStore(),
        stop: () => started!.stop(),
        start: () => started!.start(),
        destroy: () => started!.destroy(),
      };
      beforeAll(async () => {
        started = await startServer(kind);
      }, 60_000);
      afterAll(async () => {
        await started?.destroy();
      });
      body(server, kind);
    });
  }
}
