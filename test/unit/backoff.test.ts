import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base with each attempt, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((attempt) => backoffDelay(attempt, 100, 1000))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelay(0, 100, 1000)).toBe(100);
    expect(backoffDelay(2000, 100, 1000)).toBe(1000);
  });

  it('with jitter, draws the delay from zero up to the same bound', () => {
    const delays = Array.from({ length: 200 }, () => backoffDelay(3, 100, 1000, true));
    expect(delays.every((d) => d >= 0 && d <= 400)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});
