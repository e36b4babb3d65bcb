/**
 * Calls the Counter served by `server.ts`.
 *
 *     npx tsx examples/remote/client.ts http://127.0.0.1:8080     # or OAAS_URL; API_TOKEN if the server has one
 */
import { pathToFileURL } from 'node:url';
import { connect } from '../../src/client/client.js';
import { ApplicationError, ObjectNotFoundError } from '../../src/index.js';
import { Counter } from './counter.js';

/** Creates (or resets) counter `c1`, calls it, streams from it, and prints what it sees. */
export async function runClient(url: string, token?: string): Promise<void> {
  const client = connect({ url, token, timeoutMs: 5000 });
  await client.put(Counter, 'c1', { entries: { count: 0 } });

  const counter = client.ref(Counter, 'c1'); // typed: increment(by?: number) => Promise<number>
  console.log('increment(2) ->', await counter.increment(2));
  console.log('getCount() ->', await counter.getCount());

  // The same key twice: the second call returns the first result and does not run again.
  const once = client.ref(Counter, 'c1', { idempotencyKey: 'order-17' });
  console.log('idempotent increment(5) ->', await once.increment(5), 'then', await once.increment(5));

  const steps: number[] = [];
  for await (const value of counter.countUp(3)) steps.push(value);
  console.log('countUp(3) streamed', steps.join(', '));

  try {
    await counter.increment(-1);
  } catch (error) {
    if (error instanceof ApplicationError) console.log(`increment(-1) failed: ${error.errorType}: ${error.message} (${error.code})`);
    else throw error;
  }
  try {
    await client.get(Counter, 'missing');
  } catch (error) {
    if (error instanceof ObjectNotFoundError) console.log(`get(missing) failed: ${error.code}`);
    else throw error;
  }

  const state = await client.get(Counter, 'c1');
  console.log(`state of c1: version ${state.version}, entries ${JSON.stringify(state.entries)}`);
  const listed = await client.list(Counter, { limit: 10 });
  console.log('objects:', listed.objects.map((o) => o.object_id).join(', '));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.argv[2] ?? process.env.OAAS_URL;
  if (url === undefined) {
    console.error('usage: client.ts <server url>   (or set OAAS_URL)');
    process.exit(2);
  }
  await runClient(url, process.env.API_TOKEN);
}
