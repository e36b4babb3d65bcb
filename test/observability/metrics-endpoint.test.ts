import { afterEach, describe, expect, it } from 'vitest';
import { commitAll, serve, type RunningServer } from '../../src/index.js';
import { RecordingStore } from '../support/recording-store.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

/** Parses Prometheus text into `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

describe('GET /metrics', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the runtime figures in the Prometheus text format over HTTP', async () => {
    await freshRuntime({ store: new RecordingStore() });
    const c = Counter.create({}, { id: 'scraped' });
    await c.increment();
    await expect(c.incrementThenFail(1)).rejects.toThrow();
    await commitAll();
    server = await serve({ port: 0 });
    const reply = await fetch(`${server.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/plain');
    const samples = parse(await reply.text());
    expect(samples.get('oaas_commits_total')).toBe(1);
    expect(samples.get('oaas_invocations_total{cls="test.Counter",method="increment",outcome="ok"}')).toBe(1);
    expect(samples.get('oaas_invocations_total{cls="test.Counter",method="incrementThenFail",outcome="error"}')).toBe(1);
    expect(samples.get('oaas_rollbacks_total{error="RangeError"}')).toBe(1);
    expect(samples.get('oaas_pending_objects')).toBe(0);
    expect(samples.get('oaas_commit_duration_seconds_count')).toBe(1);
  });

  it('wants the bearer token when the server has one', async () => {
    await freshRuntime();
    server = await serve({ port: 0, token: 'secret-token' });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer secret-token' } })).status).toBe(200);
  });
});
