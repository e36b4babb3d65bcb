/**
 * The throw-away PostgreSQL and Redis servers of the test suite, for the
 * scenarios that need them, and the durability settings they run with (printed
 * next to every figure measured on them).
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '../../test/servers/postgres-server.js';
import { redisUnavailableReason, startRedis, type RedisServer } from '../../test/servers/redis-server.js';

/**
 * Starts both servers, runs `body`, and destroys them afterwards, also when
 * `body` throws. When either server's binaries are missing, `body` is not run.
 */
export async function withServers<T>(body: (servers: { postgres: PostgresServer; redis: RedisServer }) => Promise<T>): Promise<T | { skipped: string }> {
  const postgres = await startPostgres();
  let redis: RedisServer | undefined;
  try {
    if (postgres === undefined) return { skipped: postgresUnavailableReason() ?? 'no PostgreSQL server binaries' };
    redis = await startRedis();
    if (redis === undefined) return { skipped: (await redisUnavailableReason()) ?? 'no redis-server on PATH' };
    return await body({ postgres, redis });
  } finally {
    await redis?.destroy().catch(() => undefined);
    await postgres?.destroy().catch(() => undefined);
  }
}

/** `synchronous_commit=on fsync=on`, as the server reports them. */
export async function postgresSettings(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const show = async (name: string): Promise<string> => {
      const { rows } = await client.query<Record<string, string>>(`SHOW ${name}`);
      return `${name}=${rows[0]?.[name] ?? '?'}`;
    };
    return `${await show('synchronous_commit')} ${await show('fsync')} (PostgreSQL ${(await show('server_version')).split('=')[1] ?? '?'})`;
  } finally {
    await client.end();
  }
}

/** `appendonly=yes appendfsync=always`, as the server reports them. */
export async function redisSettings(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  await client.connect();
  try {
    const get = async (name: string): Promise<string> => {
      const reply = (await client.config('GET', name)) as string[];
      return `${name}=${reply[1] ?? '?'}`;
    };
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    return `${await get('appendonly')} ${await get('appendfsync')} (Redis ${version})`;
  } finally {
    await client.quit();
  }
}
