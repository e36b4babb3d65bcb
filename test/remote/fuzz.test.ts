// Hostile input: prototype-pollution attempts and a bounded, seeded fuzz of malformed paths, ids, JSON and bodies.
// Afterwards the server still answers, nothing is polluted, and a sentinel object is exactly as it was.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/index.js';
import { freshRuntime, shutdownAfterEach } from '../support/runtime.js';
import './fixtures/services.js';
import { inProcess, invoke, json, objectPath, onSocket, putObject, type Harness } from './support.js';

shutdownAfterEach();

const LIMIT = 16 * 1024;
const KNOWN_CODES = new Set<string>(Object.keys(ERROR_CODES));
const ALLOWED_STATUSES = new Set([200, 204, 400, 401, 404, 409, 413, 422]);

/** A small seeded PRNG (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pollution(): Record<string, unknown> {
  const probe = {} as Record<string, unknown>;
  return { polluted: probe.polluted, isAdmin: probe.isAdmin, own: Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), arrays: ([] as unknown as Record<string, unknown>).polluted };
}

const CLEAN = { polluted: undefined, isAdmin: undefined, own: false, arrays: undefined };

const PROTO_BODIES = [
  '{"__proto__":{"polluted":1}}',
  '{"a":{"__proto__":{"polluted":1}}}',
  '[{"__proto__":{"polluted":1}}]',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"x":[{"constructor":{"prototype":{"isAdmin":true}}}]}',
  '{"\\u005f_proto__":{"polluted":1}}',
  '{"__pro\\u0074o__":{"polluted":1}}',
];

describe.each([
  ['in process', () => Promise.resolve(inProcess({ bodyLimitBytes: LIMIT }))],
  ['on a socket', () => onSocket({ bodyLimitBytes: LIMIT })],
] as [string, () => Promise<Harness>][])('hostile input (%s)', (_name, start) => {
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime();
  });

  async function sentinel(): Promise<unknown> {
    return json(await h.request(objectPath('sentinel')));
  }

  async function checkReply(response: Response, what: string): Promise<void> {
    const text = await response.text();
    expect(ALLOWED_STATUSES.has(response.status), `${what} -> ${response.status} ${text.slice(0, 200)}`).toBe(true);
    if (response.status >= 400) {
      const body = JSON.parse(text) as { error: { code: string; message: string } };
      expect(KNOWN_CODES.has(body.error.code), `${what}: code ${body.error.code}`).toBe(true);
      expect(text).not.toMatch(/\n\s+at /);
    }
  }

  it('refuses prototype-pollution bodies (400) without polluting or changing anything', async () => {
    await putObject(h, 'sentinel', { count: 42, label: 'keep' });
    const before = await sentinel();
    for (const body of PROTO_BODIES) {
      for (const [method, path] of [
        ['POST', objectPath('sentinel', 'merge')],
        ['POST', objectPath('sentinel', 'rename')],
        ['POST', objectPath('sentinel', 'setCount')],
        ['PUT', objectPath('sentinel')],
        ['PUT', objectPath('fresh-object')],
      ] as const) {
        const reply = await h.request(path, { method, body });
        expect(reply.status, `${method} ${path} ${body}`).toBe(400);
        await checkReply(reply, `${method} ${path}`);
      }
      const entries = `{"entries":${body}}`;
      expect((await h.request(objectPath('sentinel'), { method: 'PUT', body: entries })).status).toBe(400);
    }
    // Query strings and headers named like prototype members are plain data.
    expect((await h.request(`/api/class/remote.Counter/0/objects?__proto__[polluted]=1&constructor[prototype][polluted]=1`)).status).toBe(200);
    expect((await h.request(`/api/class/remote.Counter/0/objects?prefix=__proto__`)).status).toBe(200);
    const headers: [string, string][] = [['__proto__', 'x'], ['constructor', 'y'], ['idempotency-key', '__proto__']];
    await checkReply(await h.request(objectPath('sentinel', 'getCount'), { method: 'POST', headers }), 'headers');
    expect(pollution()).toEqual(CLEAN);
    expect(await sentinel()).toEqual(before);
    // Harmless data is not refused: on an object that does not exist it is a plain 404 ...
    const missing = await invoke(h, 'never-created', 'merge', '{}');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ error: { code: 'OAAS_ERR_OBJECT_NOT_FOUND' } });
    // ... and on one that does, the merge works: the refusal is about prototype keys only.
    await putObject(h, 'other', { count: 1 });
    const merged = await invoke(h, 'other', 'merge', '{}');
    expect(merged.status).toBe(200);
    expect(await json(merged)).toEqual({ name: 'ada', secret: 'hidden' });
    expect(await json(await invoke(h, 'sentinel', 'merge', '{"name":"eve","constructor":{"name":"x"}}'))).toMatchObject({ name: 'eve' });
  });

  it('survives a seeded fuzz of malformed paths, ids, JSON and bodies; the sentinel does not change', { timeout: 30_000 }, async () => {
    await putObject(h, 'sentinel', { count: 42, label: 'keep', history: [1, 2, 3] });
    await putObject(h, 'target', { count: 0 });
    const before = await sentinel();
    const seed = 20240601 + (h.name === 'in process' ? 0 : 1);
    const rnd = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
    const garbage = (): string => {
      const n = Math.floor(rnd() * 40);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 0x7f));
      return s;
    };
    const segments = ['', '.', '..', '%', '%00', '%2F', '%2e%2e', '%zz', '__proto__', 'constructor', 'prototype', 'x'.repeat(300), 'ünï', '😀', 'remote.Counter', 'sentinel', '0', '-1', '1e3', 'null', 'objects', 'invokes', ' ', '\\', '?', '#'];
    const badJson = ['{', '}', '[', '{"a":}', "{'a':1}", 'undefined', 'NaN', '\u0000', '"unterminated', '[1,]', '{"a":1,}', '01', '-', '{"entries":', '\ufeff{}', '[]'.repeat(1000), '['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(3000)];
    const hugeJson = () => JSON.stringify('x'.repeat(LIMIT + 1 + Math.floor(rnd() * 10_000)));
    // Bodies that are never a valid call of a mutating method or a valid PUT of the sentinel.
    const malformedFor: Record<string, () => string> = {
      increment: () => pick([...badJson, '"3"', '{}', '[1,2]', 'true', '[]', hugeJson(), ...PROTO_BODIES]),
      rename: () => pick([...badJson, '3', '{}', '["a"]', 'false', hugeJson(), ...PROTO_BODIES]),
      merge: () => pick([...badJson, hugeJson(), ...PROTO_BODIES]),
    };
    const stalePut = () => pick([
      ...badJson,
      ...PROTO_BODIES,
      '{}', '[]', '{"entries":[]}', '{"entries":{"nope":1}}', '{"entries":{"count":1},"version":99999}', '{"entries":{},"version":"1"}',
      '{"entries":{"count":1},"metadata":{"object_id":"other"}}', `{"entries":{"label":${hugeJson()}}}`, garbage(),
    ]);
    let sent = 0;
    for (let i = 0; i < 300; i++) {
      const kind = Math.floor(rnd() * 7);
      let method = 'GET';
      let path = '';
      let body: string | undefined;
      const headers: Record<string, string> = {};
      if (rnd() < 0.2) headers['idempotency-key'] = pick(['', 'k', 'x'.repeat(250), '__proto__', 'ä']);
      if (rnd() < 0.2) headers['content-type'] = pick(['text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '']);
      switch (kind) {
        case 0: // garbage paths, any method
          method = pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
          path = `/${Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => encodeURIComponent(pick(segments))).join('/')}`;
          if (rnd() < 0.5) path = `/api/class/${path}`;
          body = method === 'GET' ? undefined : pick([...badJson, garbage()]);
          break;
        case 1: // refused, failing or read-only members of the sentinel, any body
          method = 'POST';
          path = objectPath('sentinel', encodeURIComponent(pick(['constructor', '__proto__', '_internal', 'plain', 'nope', 'fail', 'toString', 'prototype', 'getCount', 'getName', 'count', 'valueOf', 'hasOwnProperty'])));
          body = pick([...badJson, '"boom"', '1', '', garbage(), ...PROTO_BODIES]);
          break;
        case 2: {
          // mutating members of the sentinel with malformed arguments
          const member = pick(Object.keys(malformedFor));
          method = 'POST';
          path = objectPath('sentinel', member);
          body = rnd() < 0.15 ? hugeJson() : malformedFor[member]!();
          break;
        }
        case 3: // PUT the sentinel with bad bodies
          method = 'PUT';
          path = objectPath('sentinel');
          body = rnd() < 0.15 ? `{"entries":{"label":${hugeJson()}}}` : stalePut();
          break;
        case 4: // listing with odd queries
          path = `/api/class/remote.Counter/${pick(['0', '1', 'x', '-1'])}/objects?${pick(['prefix', 'limit', 'cursor', '__proto__', 'limit'])}=${encodeURIComponent(pick([...segments, garbage()]))}`;
          break;
        case 5: // the sentinel's id in other classes or partitions (DELETE included: never this object)
          method = pick(['GET', 'DELETE', 'PUT', 'POST']);
          path = `/api/class/${encodeURIComponent(pick(['remote.Nope', 'oaas.Idempotency', 'Counter', 'remote.counter', '__proto__']))}/${pick(['0', '01', 'x', '-0', '2147483648'])}/objects/sentinel`;
          body = method === 'GET' || method === 'DELETE' ? undefined : '{"entries":{}}';
          break;
        default: // garbage ids on real routes, any method
          method = pick(['GET', 'DELETE', 'PUT', 'POST']);
          path = objectPath(encodeURIComponent(pick([...segments, garbage(), 'SENTINEL', 'sentinel ', 'sentinel/..'])).replace(/\./g, '%2E') || 'x', method === 'POST' ? 'increment' : undefined);
          if (path.includes('/objects/sentinel/') || path.endsWith('/objects/sentinel')) continue;
          body = method === 'PUT' ? pick(['{"entries":{}}', ...badJson]) : method === 'POST' ? pick(['1', ...badJson]) : undefined;
      }
      const what = `#${i} ${method} ${path.slice(0, 120)} ${String(body).slice(0, 60)}`;
      let reply: Response;
      try {
        reply = await h.request(path, { method, body, headers });
      } catch (error) {
        // fetch refuses some requests itself (e.g. a body on a GET); the server never saw them.
        expect(error, what).toBeInstanceOf(TypeError);
        continue;
      }
      await checkReply(reply, what);
      sent += 1;
    }
    expect(sent).toBeGreaterThan(250);
    expect(pollution()).toEqual(CLEAN);
    expect(await sentinel()).toEqual(before);
    expect((await h.request('/healthz')).status).toBe(200);
    expect(await json(await invoke(h, 'target', 'increment', '1'))).toBe(1);
  });
});

describe('raw socket abuse', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await onSocket({ bodyLimitBytes: LIMIT });
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await freshRuntime();
  });

  /** Sends a request with a raw path (fetch would normalise it); resolves with the status, or the socket error. */
  function raw(path: string, method = 'GET', body?: string | Buffer): Promise<number | string> {
    const { hostname, port } = new URL(h.url);
    return new Promise((resolve) => {
      const req = httpRequest({ hostname, port, path, method, headers: body === undefined ? {} : { 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', (error) => resolve(error.message));
      });
      req.on('error', (error) => resolve(error.message));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  it('answers raw malformed paths and oversized bodies without failing, then keeps serving', { timeout: 20_000 }, async () => {
    await putObject(h, 'sentinel', { count: 42 });
    const before = await json(await h.request(objectPath('sentinel')));
    const paths = [
      '/api/class/remote.Counter/0/objects/../../../../healthz',
      '/api/class/remote.Counter/0/objects/%2e%2e/invokes/shout',
      '/api/class/remote.Counter/0/objects/sentinel/invokes/%E0%A4%A',
      '/api/class/remote.Counter/0/objects/%00/invokes/increment',
      '//api//class//remote.Counter//0//objects//sentinel',
      '/api/class/remote.Counter/0/objects/sentinel?' + 'a=1&'.repeat(2000),
      '/' + 'a/'.repeat(2000),
      '/api/class/remote.Counter/0/objects/sentinel/invokes/__proto__',
      '/api\\class\\remote.Counter\\0\\objects\\sentinel',
      '*',
    ];
    for (const path of paths) {
      // Some of these normalise to the sentinel's real routes (a URL's `\\` is `/`): only reads and malformed calls are sent.
      for (const method of ['GET', 'POST', 'PUT']) {
        const status = await raw(path, method, method === 'GET' ? undefined : '{');
        expect(status === 500 || status === 'timeout', `${method} ${path.slice(0, 80)} -> ${String(status)}`).toBe(false);
      }
    }
    for (let i = 0; i < 5; i++) {
      const status = await raw(objectPath('sentinel', 'rename'), 'POST', Buffer.alloc(2 * 1024 * 1024, 0x61));
      expect([413, 'write EPIPE', 'read ECONNRESET', 'socket hang up']).toContain(status);
    }
    expect(await json(await h.request(objectPath('sentinel')))).toEqual(before);
    expect((await h.request('/healthz')).status).toBe(200);
  });
});
