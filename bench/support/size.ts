/**
 * `npm run bench -- --smoke`: every scenario once at a tiny size, so the
 * benchmark code runs (in CI) and cannot rot. The figures of a smoke run
 * mean nothing; only a full run measures. `run.ts` sets the variable before
 * it loads the scenarios (and their child processes inherit it).
 */
export const smoke = process.env.OAAS_BENCH_SMOKE === '1';

/** `full` in a measuring run, `tiny` in a smoke run. */
export function scaled(full: number, tiny: number): number {
  return smoke ? tiny : full;
}
