// A missing PostgreSQL or Redis skips their suites on a developer machine, and fails the run in CI.
import { describe, expect, it } from 'vitest';
import { TsChild } from '../support/child.js';

/** The helpers' verdicts in a process where neither server can be found. */
async function verdicts(ci: string): Promise<string[]> {
  const child = new TsChild(new URL('../fixtures/server-availability.ts', import.meta.url), [], { CI: ci, OAAS_PG_BIN: '/nonexistent', PATH: '/nonexistent' });
  const [code] = await child.exit(30_000);
  expect(code, child.stderr).toBe(0);
  return child.lines;
}

describe('test servers that are missing', () => {
  it('are skipped, with a reason, outside CI', { timeout: 60_000 }, async () => {
    expect(await verdicts('')).toEqual([expect.stringMatching(/^postgres skip no PostgreSQL server binaries/), expect.stringMatching(/^redis skip no redis-server executable/)]);
  });

  it('fail the run when CI=true', { timeout: 60_000 }, async () => {
    expect(await verdicts('true')).toEqual([
      expect.stringMatching(/^postgres fail CI=true: the PostgreSQL suites must run, but no PostgreSQL server binaries/),
      expect.stringMatching(/^redis fail CI=true: the Redis suites must run, but no redis-server executable/),
    ]);
  });
});
