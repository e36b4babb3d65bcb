/**
 * One cluster member: serves HTTP on a free port of 127.0.0.1, then joins
 * the cluster on the shared store. Started by `main.ts` with `fork()`; it
 * reports its URL over the IPC channel and answers `stats` requests with
 * `getStats().cluster`.
 *
 *     DATABASE_URL=postgres://... MEMBER_ID=member-a npx tsx examples/cluster/member.ts
 *
 * Run alone (without main.ts) it prints its URL and serves until SIGTERM or
 * Ctrl-C. On either, and when main.ts goes away (the IPC channel closes), it
 * shuts down: its objects are handed over to the other members first.
 */
import { configureOaas, getStats, shutdown } from '../../src/index.js';
import { serve } from '../../src/server/serve.js';
import './counter.js';

const forked = process.send !== undefined;
const store = process.env.DATABASE_URL;
const id = process.env.MEMBER_ID;
if (store === undefined || id === undefined) {
  console.error('member.ts needs DATABASE_URL (the shared store) and MEMBER_ID (a stable name, e.g. member-a)');
  process.exit(1);
}

// Serve first, then join: the other members reach this one at its URL as soon as it owns slots.
const server = await serve({ port: 0 });
await configureOaas({
  store,
  cluster: { url: server.url, id, leaseMs: Number(process.env.OAAS_CLUSTER_LEASE_MS ?? 3000) },
  logLevel: 'warn',
});

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  // shutdown() hands this member's slots over (its objects' pending changes are committed first),
  // then the server stops; requests that arrive meanwhile are relayed to the new owners.
  stopping ??= shutdown()
    .then(() => server.close())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`${id}: shutdown failed:`, error);
        process.exit(1);
      },
    );
  return stopping;
}
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
process.once('disconnect', () => void stop());

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats' && process.connected) process.send!({ type: 'stats', cluster: getStats().cluster });
});

if (!forked) console.log(`${id} serving on ${server.url}`);
else if (process.connected) process.send!({ type: 'ready', id, url: server.url });
else void stop(); // main.ts went away while this member was starting
