/**
 * Serves the Counter over HTTP.
 *
 *     npx tsx examples/remote/server.ts                 # port HTTP_PORT, or a free one
 *     HTTP_PORT=8080 API_TOKEN=s3cret npx tsx examples/remote/server.ts
 *     curl -X PUT localhost:8080/api/class/remote_example.Counter/0/objects/c1 \
 *          -H 'authorization: Bearer s3cret' -d '{"entries":{}}'
 *     curl -X POST localhost:8080/api/class/remote_example.Counter/0/objects/c1/invokes/increment \
 *          -H 'authorization: Bearer s3cret' -d 2
 *
 * State goes to the configured store (`OAAS_STORE`, default `sqlite:.oaas/state.db`).
 * On SIGTERM or SIGINT it stops accepting requests, then flushes and closes the runtime.
 */
import { pathToFileURL } from 'node:url';
import { shutdown } from '../../src/index.js';
import { serve, type RunningServer } from '../../src/server/serve.js';
import './counter.js';

/** Starts the server: on `port`, else HTTP_PORT, else a free port. */
export async function startServer(options: { port?: number; token?: string } = {}): Promise<RunningServer> {
  const port = options.port ?? (process.env.HTTP_PORT === undefined ? 0 : undefined);
  return serve({ port, token: options.token ?? process.env.API_TOKEN });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const server = await startServer();
  console.log(`serving on ${server.url}`);
  const stop = async (): Promise<void> => {
    await server.close();
    await shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}
