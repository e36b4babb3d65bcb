/**
 * On a developer machine a missing PostgreSQL or Redis skips their suites;
 * in CI (`CI=true`) it must fail the run instead, or a broken CI image would
 * pass with a hundred tests quietly not run.
 */
export function skipReasonOrFail(server: string, reason: string | undefined): string | undefined {
  if (reason !== undefined && isCi()) {
    throw new Error(`CI=${process.env.CI ?? ''}: the ${server} suites must run, but ${reason}`);
  }
  return reason;
}

function isCi(): boolean {
  const value = (process.env.CI ?? '').toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}
