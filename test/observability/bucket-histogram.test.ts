import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from '../../src/observability/bucket-histogram.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same observations through prom-client's histogram and the SDK's, each in its own registry. */
function pair(): { ours: BucketHistogram; theirs: Histogram; texts: () => Promise<[string, string]>; json: () => Promise<[unknown, unknown]> } {
  const mine = new Registry();
  const reference = new Registry();
  const ours = new BucketHistogram({ name: 'h_seconds', help: 'A duration.', buckets: BUCKETS, registers: [mine] });
  const theirs = new Histogram({ name: 'h_seconds', help: 'A duration.', buckets: BUCKETS, registers: [reference] });
  return {
    ours,
    theirs,
    texts: async () => [await mine.metrics(), await reference.metrics()],
    json: async () => [await mine.getMetricsAsJSON(), await reference.getMetricsAsJSON()],
  };
}

describe('BucketHistogram', () => {
  it('prints what prom-client`s histogram prints for the same observations, bounds and overflow included', async () => {
    const { ours, theirs, texts, json } = pair();
    // Below the first bound, on bounds exactly, between them, past the last one.
    const values = [0, 0.0004, 0.001, 0.003, 0.005, 0.07, 0.1, 0.3, 1, 2.5, 4, 10, 11, 250];
    for (const value of values) {
      ours.observe(value);
      theirs.observe(value);
    }
    const [mine, reference] = await texts();
    expect(mine).toBe(reference);
    expect(mine).toMatch(/^h_seconds_bucket\{le="0\.001"\} 3$/m);
    expect(mine).toMatch(/^h_seconds_bucket\{le="\+Inf"\} 14$/m);
    expect(mine).toMatch(/^h_seconds_count 14$/m);
    const [ourJson, theirJson] = await json();
    expect(ourJson).toEqual(theirJson);
  });

  it('prints zeros before any observation and after a reset, as prom-client does', async () => {
    const { ours, texts } = pair();
    const [empty, emptyReference] = await texts();
    expect(empty).toBe(emptyReference);
    expect(empty).toMatch(/^h_seconds_count 0$/m);
    ours.observe(0.2);
    ours.reset();
    const [reset] = await texts();
    expect(reset).toBe(emptyReference);
  });

  it('ignores a value that is not a finite number rather than poisoning the sum', async () => {
    const { ours, texts } = pair();
    ours.observe(0.5);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) ours.observe(bad);
    const [mine] = await texts();
    expect(mine).toMatch(/^h_seconds_sum 0\.5$/m);
    expect(mine).toMatch(/^h_seconds_count 1$/m);
  });
});
