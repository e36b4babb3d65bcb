/**
 * Scenario 7's servers, each in a process of its own so that the load
 * generator (autocannon, in the bench process) does not share their event
 * loop. Listens on 127.0.0.1, prints one JSON line `{"port":N}` once ready,
 * and exits on SIGTERM.
 *
 *     node --import tsx bench/scenarios/remote-invocation-child.ts sdk <store spec>   # the SDK's serve()
 *     node --import tsx bench/scenarios/remote-invocation-child.ts plain              # node:http, in memory
 *     node --import tsx bench/scenarios/remote-invocation-child.ts restate            # a Restate SDK endpoint (HTTP/2)
 */
import { createServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import * as restate from '@restatedev/restate-sdk';
import { configureOaas, shutdown } from '../../src/index.js';
import { serve } from '../../src/server/serve.js';
import '../support/services.js'; // registers bench.Counter

const [mode, storeSpec] = process.argv.slice(2);

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

let stop: () => Promise<void>;
let port: number;
switch (mode) {
  case 'sdk': {
    if (storeSpec === undefined) throw new Error('usage: remote-invocation-child.ts sdk <store spec>');
    await configureOaas({ store: storeSpec, logLevel: 'silent' });
    const server = await serve({ port: 0 });
    port = server.port;
    stop = async () => {
      await server.close({ timeoutMs: 2000 });
      await shutdown();
    };
    break;
  }
  case 'plain': {
    // The HTTP floor: the same request and a JSON number back, with nothing stored.
    const counts = new Map<string, number>();
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const count = (counts.get(req.url ?? '') ?? 0) + 1;
        counts.set(req.url ?? '', count);
        res.writeHead(200, { 'content-type': 'application/json' }).end(String(count));
      });
    });
    port = await listen(server);
    stop = () => new Promise((resolve) => server.close(() => resolve()));
    break;
  }
  case 'restate': {
    // @restatedev/restate-sdk 1.17 calls Promise.withResolvers (Node 22+) and declares no engines; this
    // repository runs on Node 20, so the endpoint process gets the standard polyfill.
    const withResolvers = Promise as unknown as { withResolvers?: () => unknown };
    withResolvers.withResolvers ??= () => {
      let resolve!: (value: unknown) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };
    const counter = restate.object({
      name: 'counter',
      handlers: {
        increment: async (ctx: restate.ObjectContext): Promise<number> => {
          const count = ((await ctx.get<number>('count')) ?? 0) + 1;
          ctx.set('count', count);
          return count;
        },
        get: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext): Promise<number> => (await ctx.get<number>('count')) ?? 0),
      },
    });
    // Only errors: the endpoint otherwise warns on every start that request signatures are not checked.
    const logger: restate.LoggerTransport = (meta, message) => {
      if (String(meta.level) === 'error') console.error(message); // RestateLogLevel is a type-only enum at runtime
    };
    const server = createHttp2Server(restate.createEndpointHandler({ services: [counter], logger }));
    port = await listen(server);
    // restate-server keeps its HTTP/2 connection open, so close() would wait for it: exiting ends it.
    stop = async () => undefined;
    break;
  }
  default:
    throw new Error(`unknown mode ${JSON.stringify(mode)}: expected sdk, plain or restate`);
}

process.once('SIGTERM', () => {
  stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
console.log(JSON.stringify({ port }));
