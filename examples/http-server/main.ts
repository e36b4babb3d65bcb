/**
 * An HTTP API over durable counters, on `node:http`, with one session per request.
 *
 *     npx tsx examples/http-server/main.ts            # serves on PORT (default 3000)
 *     curl -X POST localhost:3000/counters/c1/increment?by=2
 *     curl localhost:3000/counters/c1
 *
 *     npx tsx examples/http-server/main.ts --once     # self-test: ask itself, print, exit
 *     EXAMPLE_SELF_TEST=1 npx tsx examples/http-server/main.ts
 *
 * Served normally, state goes to the configured store (`OAAS_STORE`, default
 * `sqlite:.oaas/state.db`). The self-test uses the memory store so that it
 * leaves no files behind and prints the same thing every time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ObjectNotFoundError,
  OaasError,
  OaasObject,
  configureOaas,
  currentSession,
  method,
  runInSession,
  service,
  shutdown,
} from '../../src/index.js';

@service('Counter', { package: 'http' })
class Counter extends OaasObject {
  count = 0;

  @method()
  async increment(by = 1): Promise<number> {
    this.count += by;
    return this.count;
  }
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

async function counterOrNew(id: string): Promise<Counter> {
  try {
    return await Counter.load(id);
  } catch (error) {
    if (!(error instanceof ObjectNotFoundError)) throw error;
    return Counter.create({}, { id });
  }
}

/** The routes. Runs inside the request's own session. */
async function route(method: string, url: URL): Promise<Reply> {
  const match = /^\/counters\/([^/]+)(\/increment)?$/.exec(url.pathname);
  if (match === null) return { status: 404, body: { error: 'no such route' } };
  const id = decodeURIComponent(match[1]!);
  const increment = match[2] !== undefined;

  if (method === 'POST' && increment) {
    const by = Number(url.searchParams.get('by') ?? '1');
    if (!Number.isSafeInteger(by)) return { status: 400, body: { error: 'by must be an integer' } };
    const counter = await counterOrNew(id);
    const count = await counter.increment(by);
    // Reply only once the change is durable; a failed commit becomes an error reply.
    await currentSession().commit();
    return { status: 200, body: { id, count } };
  }
  if (method === 'GET' && !increment) {
    const counter = await Counter.load(id);
    return { status: 200, body: { id, count: counter.count, version: counter.version } };
  }
  return { status: 405, body: { error: `${method} is not allowed here` } };
}

/** Maps errors to replies: not found is 404, other SDK errors carry their own status and code. */
function errorReply(error: unknown): Reply {
  if (error instanceof ObjectNotFoundError) return { status: 404, body: { error: error.message, code: error.code } };
  if (error instanceof OaasError) return { status: error.status, body: { error: error.message, code: error.code } };
  console.error(error);
  return { status: 500, body: { error: 'internal error' } };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let reply: Reply;
  try {
    reply = await route(req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost'));
  } catch (error) {
    reply = errorReply(error);
  }
  res.writeHead(reply.status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(reply.body));
}

function startServer(port: number, host?: string): Promise<Server> {
  // One session per request: without runInSession, requests would share the
  // session of the context that started the server.
  const server = createServer((req, res) => {
    runInSession(() => handle(req, res)).catch((error: unknown) => {
      console.error(error);
      res.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => {
      if (error === undefined) resolve();
      else reject(error);
    });
  });
}

async function selfTest(): Promise<void> {
  await configureOaas({ store: 'memory' });
  const server = await startServer(0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  try {
    for (const [verb, path] of [
      ['POST', '/counters/demo/increment?by=2'],
      ['GET', '/counters/demo'],
      ['GET', '/counters/nobody'],
    ] as const) {
      const response = await fetch(`${base}${path}`, { method: verb });
      console.log(`${verb} ${path} -> ${response.status} ${await response.text()}`);
    }
  } finally {
    await closeServer(server);
    await shutdown();
  }
}

async function serve(): Promise<void> {
  const port = Number(process.env.PORT ?? '3000');
  const server = await startServer(port);
  console.log(`listening on http://localhost:${port}`);
  const stop = (): void => {
    closeServer(server)
      .then(() => shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv.includes('--once') || process.env.EXAMPLE_SELF_TEST === '1') await selfTest();
else await serve();
