import { afterEach, expect, it } from 'vitest';
import { ClassNotFoundError, commitAll, connect, getAutoSessionManager, InvalidArgumentError, serve, UnauthorizedError, type RemoteWatchEvent, type RunningServer } from '../../src/index.js';
import { readEvents, type SseEvent } from '../../src/client/sse.js';
import { freshRuntime, shutdownAfterEach, tick } from '../support/runtime.js';
import { Counter } from '../support/services.js';

shutdownAfterEach();

const TOKEN = 'events-secret';
const running: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close({ timeoutMs: 500 })));
});

async function start(): Promise<RunningServer> {
  await freshRuntime();
  const server = await serve({ port: 0, token: TOKEN });
  running.push(server);
  return server;
}

async function bump(counter: Counter, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await counter.increment();
    await commitAll();
  }
}

/** Waits (bounded) until the runtime has `count` watches. */
async function watches(count: number): Promise<void> {
  for (let i = 0; i < 1000 && getAutoSessionManager().watchCount !== count; i++) await tick();
  expect(getAutoSessionManager().watchCount).toBe(count);
}

/** The next `count` SSE events of a raw request. */
async function take(events: AsyncGenerator<SseEvent>, count: number): Promise<SseEvent[]> {
  const taken: SseEvent[] = [];
  while (taken.length < count) {
    const step = await events.next();
    if (step.done === true) break;
    taken.push(step.value);
  }
  return taken;
}

it('streams an object\'s versions to client.watch in order, and closing the iteration ends the request', { timeout: 30_000 }, async () => {
  const server = await start();
  const counter = Counter.create({}, { id: 'w' });
  await commitAll();
  const client = connect({ url: server.url, token: TOKEN });
  const seen: RemoteWatchEvent[] = [];
  const reading = (async () => {
    for await (const event of client.watch(Counter, 'w')) {
      seen.push(event);
      if (seen.length === 5) break;
    }
  })();
  await watches(1);
  await bump(counter, 5);
  await reading;
  expect(seen).toEqual(Array.from({ length: 5 }, (_, i) => ({ kind: 'update', clsId: 'test.Counter', partitionId: 0, objectId: 'w', version: i + 2, changed: expect.arrayContaining(['count']) as unknown })));
  await watches(0);
});

it('resumes an object stream from Last-Event-ID with a gap for what it missed, ids being versions', { timeout: 30_000 }, async () => {
  const server = await start();
  const counter = Counter.create({}, { id: 'r' });
  await commitAll();
  await bump(counter, 4);
  const response = await fetch(`${server.url}/api/class/test.Counter/0/objects/r/events`, { headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': '2' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = readEvents(response.body!);
  try {
    await watches(1);
    const [gap] = await take(events, 1);
    expect(gap).toMatchObject({ id: '5' });
    expect(JSON.parse(gap!.data)).toEqual({ kind: 'gap', clsId: 'test.Counter', partitionId: 0, objectId: 'r', from: 3, to: 5 });
    await bump(counter, 1);
    const [next] = await take(events, 1);
    expect(next).toMatchObject({ id: '6' });
    expect(JSON.parse(next!.data)).toMatchObject({ kind: 'update', version: 6 });
  } finally {
    await events.return(undefined);
  }
  await watches(0);
});

it('streams a class with `<objectId>:<version>` ids and resumes it after the last one seen', { timeout: 30_000 }, async () => {
  const server = await start();
  const a = Counter.create({}, { id: 'a' });
  Counter.create({}, { id: 'b' });
  await commitAll();
  const client = connect({ url: server.url, token: TOKEN });
  const response = await fetch(`${server.url}/api/class/test.Counter/0/events`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const events = readEvents(response.body!);
  try {
    await watches(1);
    await bump(a, 1);
    const [first] = await take(events, 1);
    expect(first).toMatchObject({ id: 'a:2' });
  } finally {
    await events.return(undefined);
  }
  await watches(0);
  await bump(a, 2);
  // Resuming after a:2: a is at 4 now, so its next event comes after a gap for 3..4.
  const seen: RemoteWatchEvent[] = [];
  const reading = (async () => {
    for await (const event of client.watchClass(Counter, { after: { objectId: 'a', version: 2 } })) {
      seen.push(event);
      if (seen.length === 2) break;
    }
  })();
  await watches(1);
  await bump(a, 1);
  await reading;
  expect(seen).toEqual([
    { kind: 'gap', clsId: 'test.Counter', partitionId: 0, objectId: 'a', from: 3, to: 4 },
    expect.objectContaining({ kind: 'update', objectId: 'a', version: 5 }),
  ]);
  await watches(0);
});

it('keeps event streams behind the token and refuses unknown classes and malformed Last-Event-IDs', { timeout: 30_000 }, async () => {
  const server = await start();
  const url = `${server.url}/api/class/test.Counter/0/objects/x/events`;
  expect((await fetch(url)).status).toBe(401);
  expect((await fetch(`${server.url}/api/class/test.Counter/0/events`)).status).toBe(401);
  const auth = { authorization: `Bearer ${TOKEN}` };
  expect((await fetch(`${server.url}/api/class/nope.Nope/0/events`, { headers: auth })).status).toBe(404);
  expect((await fetch(url, { headers: { ...auth, 'last-event-id': 'abc' } })).status).toBe(400);
  expect((await fetch(`${server.url}/api/class/test.Counter/0/events`, { headers: { ...auth, 'last-event-id': '7' } })).status).toBe(400);
  expect((await fetch(`${server.url}/api/class/test.Counter/x/events`, { headers: auth })).status).toBe(400);
  const wrongToken = connect({ url: server.url, token: 'wrong' });
  await expect((async () => {
    const seen: RemoteWatchEvent[] = [];
    for await (const event of wrongToken.watch(Counter, 'x')) seen.push(event);
    return seen;
  })()).rejects.toThrow(UnauthorizedError);
  const client = connect({ url: server.url, token: TOKEN });
  expect(() => client.watch(Counter, 'x', { since: -1 })).toThrow(InvalidArgumentError);
  expect(() => client.watchClass(class NotAService {} as never)).toThrow(ClassNotFoundError);
  await watches(0);
});
