import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type PostgresServer } from '../servers/postgres-server.js';

/**
 * Starts a throw-away PostgreSQL server before the enclosing suite's tests
 * and destroys it after them (also when they fail). Call it inside a
 * `describe` that is skipped where the binaries are missing; the getter
 * returns the running server.
 */
export function postgresForSuite(): () => PostgresServer {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
    if (server === undefined) throw new Error('postgres binaries were found but startPostgres() gave up');
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });
  return () => server!;
}
