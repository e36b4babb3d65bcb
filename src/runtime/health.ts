import type { ClusterStats } from '../observability/telemetry.js';
import type { Store } from '../stores/store.js';
import type { PendingWork } from './pending-work.js';
import type { HealthReport } from './runtime-types.js';

/** One probe read of the store, and what waits for a commit; never rejects. */
export async function checkHealth(
  store: Promise<Store>,
  configuredName: string,
  open: boolean,
  pending: PendingWork,
  liveObjects: number,
  cluster?: () => ClusterStats,
): Promise<HealthReport> {
  const started = performance.now();
  let reachable = false;
  let error: string | undefined;
  let pool: HealthReport['store']['pool'];
  let name = configuredName;
  try {
    const opened = await store;
    name = opened.name;
    // A store that can measure a round trip says so (ODGM holds no class for a probe read to name).
    const ping = (opened as Partial<{ ping(): Promise<number> }>).ping;
    if (ping === undefined) await opened.get({ clsId: 'oaas.health', partitionId: 0, objectId: 'probe' });
    else await ping.call(opened);
    reachable = true;
    const stats = (opened as Partial<{ poolStats(): { total: number; idle: number; waiting: number } }>).poolStats?.();
    if (stats !== undefined) pool = stats;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  return {
    ok: reachable && open,
    store: { name, reachable, latencyMs: performance.now() - started, pool, error },
    pendingObjects: pending.objectCount,
    oldestPendingAgeMs: pending.oldestAgeMs(),
    pendingSessions: pending.sessionCount,
    liveObjects,
    ...(cluster === undefined ? {} : { cluster: cluster() }),
  };
}
