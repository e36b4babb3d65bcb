/**
 * Remote invocation end to end, in one process: starts the server on a free
 * port, calls it through the typed client, prints the results and exits.
 *
 *     npx tsx examples/remote/main.ts
 *
 * Uses the memory store, so it leaves no files behind and prints the same
 * thing every time.
 */
import { configureOaas, shutdown } from '../../src/index.js';
import { runClient } from './client.js';
import { startServer } from './server.js';

await configureOaas({ store: 'memory', logLevel: 'error' });
const token = 'example-token';
const server = await startServer({ port: 0, token });
console.log(`serving on ${server.url}`);
try {
  await runClient(server.url, token);
} finally {
  // Stop taking requests first, then flush and close the runtime.
  await server.close();
  await shutdown();
}
