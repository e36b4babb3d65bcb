/**
 * Scenario 9: cluster mode on PostgreSQL. One member against three, each a
 * child process (`cluster-child.ts`), every cluster on a database of its own
 * in one throw-away server; both clusters run side by side and are measured
 * run by run, interleaved:
 *
 * - in process: workers in the members call `increment()` on objects picked
 *   at random (with three members, two calls in three go to an object another
 *   member owns and are forwarded to it);
 * - over HTTP: connections from this process, spread over the members, `POST
 *   .../invokes/increment` on random objects (relayed to the owner when the
 *   member asked does not own it);
 * - steady state: version conflicts (`getStats().conflicts`) from the end of
 *   the warm-up to the end of the runs, summed over the members;
 * - takeover: under load, the owner of an object is killed with SIGKILL and
 *   the time until a survivor answers a call on that object is measured; a
 *   new member replaces it before the next trial.
 *
 * Every increment acknowledged in the steady phase must be in the objects'
 * counts afterwards, exactly; across a takeover, no increment acknowledged
 * over HTTP may be lost.
 */
import type { ScenarioReport } from '../support/report.js';
import { CLS, invokeUrl, minus, ownersOf, post, settled, startMembers, stopAll, totals, type MemberProcess } from '../support/cluster-members.js';
import { takeover, type Trial } from './cluster-takeover.js';
import { Histogram } from '../support/histogram.js';
import { postgresSettings, withServers } from '../support/servers.js';
import { fmt, prng, ratioText, ratios, spread, summarize, table } from '../support/stats.js';
import { scaled } from '../support/size.js';

const LEASE_MS = 2000;
const OBJECTS = 48;
/** In-process workers and HTTP connections in all, shared evenly by the members of a cluster. */
const WORKERS = 12;
const CONNECTIONS = 12;
const RUN_MS = scaled(2000, 300);
const WARMUP_MS = scaled(1000, 100);
const RUNS = scaled(3, 1);
const TAKEOVER_TRIALS = scaled(3, 1);
const IDS = Array.from({ length: OBJECTS }, (_, i) => `c${i}`);

interface Cluster {
  readonly name: string;
  readonly members: MemberProcess[];
  /** Object id -> index of its owner in `members`. */
  owners: Map<string, number>;
  /** Increments acknowledged since the objects were created. */
  acknowledged: number;
}

/** One run of a kind of load on a cluster. */
interface Run {
  readonly calls: number;
  readonly perSecond: number;
  readonly local: Histogram;
  readonly forwarded: Histogram;
}

async function inProcess(cluster: Cluster, ms: number, seed: number): Promise<Run> {
  const workers = WORKERS / cluster.members.length;
  const results = await Promise.all(cluster.members.map((m, i) => m.load(IDS, workers, ms, seed * 10 + i)));
  const local = new Histogram();
  const forwarded = new Histogram();
  for (const result of results) {
    if (result.errors > 0) throw new Error(`cluster scenario: ${result.errors} failed calls in process (${cluster.name}): ${result.failures[0]?.error ?? '?'}`);
    local.merge(result.local);
    forwarded.merge(result.forwarded);
  }
  const calls = local.count + forwarded.count;
  cluster.acknowledged += calls;
  return { calls, perSecond: calls / (ms / 1000), local, forwarded };
}

/** `CONNECTIONS` sequential request loops; loop i asks member i mod n. */
async function overHttp(cluster: Cluster, ms: number, seed: number): Promise<Run> {
  const local = new Histogram();
  const forwarded = new Histogram();
  const started = performance.now();
  const deadline = started + ms;
  const loop = async (c: number): Promise<void> => {
    const index = c % cluster.members.length;
    const member = cluster.members[index]!;
    const random = prng(seed * 100 + c);
    while (performance.now() < deadline) {
      const id = IDS[Math.floor(random() * IDS.length)]!;
      const t = performance.now();
      await post(invokeUrl(member, id));
      (cluster.owners.get(id) === index ? local : forwarded).record(performance.now() - t);
      cluster.acknowledged += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, c) => loop(c)));
  const calls = local.count + forwarded.count;
  return { calls, perSecond: calls / ((performance.now() - started) / 1000), local, forwarded };
}

/** The sum of the objects' counts, read over HTTP from the first member (relayed to the owners). */
async function countSum(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const id of IDS) {
    const response = await fetch(`${cluster.members[0]!.url}/api/class/${CLS}/0/objects/${id}`, { signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`cluster scenario: GET ${id}: ${response.status} ${await response.text()}`);
    total += ((await response.json()) as { entries: { count: number } }).entries.count;
  }
  return total;
}

async function clusterOf(all: MemberProcess[], name: string, store: string, count: number): Promise<Cluster> {
  const members = await startMembers(all, store, count, LEASE_MS);
  return { name, members, owners: new Map(), acknowledged: 0 };
}

async function createObjects(cluster: Cluster): Promise<void> {
  for (const id of IDS) {
    const response = await fetch(`${cluster.members[0]!.url}/api/class/${CLS}/0/objects/${id}`, { method: 'PUT', body: '{"entries":{}}', signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`cluster scenario: creating ${id}: ${response.status} ${await response.text()}`);
  }
}

const p = (h: Histogram, q: number): number => h.quantile(q);
const ms = (values: readonly number[]): string => (values.every((v) => Number.isNaN(v)) ? '-' : spread(summarize(values.filter((v) => !Number.isNaN(v))), ' ms'));

export async function cluster(): Promise<ScenarioReport> {
  const title = 'Cluster on PostgreSQL';
  const outcome = await withServers(async ({ postgres }) => {
    const all: MemberProcess[] = [];
    try {
      const [singleStore, trioStore] = [await postgres.createDatabase(), await postgres.createDatabase()];
      const settings = await postgresSettings(singleStore);
      const [single, trio] = await Promise.all([clusterOf(all, '1 process', singleStore, 1), clusterOf(all, '3 processes', trioStore, 3)]);
      const clusters = [single, trio];
      await Promise.all(clusters.map((c) => settled(c.members, 1000)));
      for (const c of clusters) {
        await createObjects(c);
        c.owners = await ownersOf(c.members, IDS);
      }

      // Warm-up (JIT, connections, live instances everywhere), then the steady phase starts.
      for (const c of clusters) {
        await inProcess(c, WARMUP_MS, 0);
        await overHttp(c, WARMUP_MS, 0);
      }
      const steadyBefore = await Promise.all(clusters.map(async (c) => totals(await Promise.all(c.members.map((m) => m.stats())))));
      const steadyStarted = performance.now();
      const runs = new Map<string, Run[]>();
      const push = (key: string, run: Run): void => void runs.set(key, [...(runs.get(key) ?? []), run]);
      for (let run = 1; run <= RUNS; run++) {
        for (const c of clusters) push(`in process/${c.name}`, await inProcess(c, RUN_MS, run));
        for (const c of clusters) push(`HTTP/${c.name}`, await overHttp(c, RUN_MS, run));
      }
      const steadySeconds = (performance.now() - steadyStarted) / 1000;
      const steady = await Promise.all(clusters.map(async (c, i) => minus(totals(await Promise.all(c.members.map((m) => m.stats()))), steadyBefore[i]!)));
      for (const c of clusters) {
        const stored = await countSum(c);
        if (stored !== c.acknowledged) throw new Error(`cluster scenario (${c.name}): the counts sum to ${stored}, ${c.acknowledged} increments were acknowledged`);
        const owners = await ownersOf(c.members, IDS);
        if ([...owners].some(([id, owner]) => c.owners.get(id) !== owner)) throw new Error(`cluster scenario (${c.name}): objects changed owner during the steady phase`);
      }

      const trials: Trial[] = [];
      for (let trial = 0; trial < TAKEOVER_TRIALS; trial++) trials.push(await takeover(all, trio.members, trioStore, trial, { ids: IDS, leaseMs: LEASE_MS, workers: WORKERS }));

      const stopped = await Promise.all(all.map((m) => m.stop()));
      const unclean = stopped.filter((s) => s !== 0 && s !== 'SIGKILL');
      return { settings, runs, steady, steadySeconds, trials, unclean, clusters };
    } finally {
      await stopAll(all);
    }
  });
  if ('skipped' in outcome) {
    return { id: '9', title, setup: `Skipped: ${outcome.skipped}.`, tables: [], verdicts: [], notes: [] };
  }
  const { settings, runs, steady, steadySeconds, trials, unclean, clusters } = outcome;

  const rows: string[][] = [];
  for (const kind of ['in process', 'HTTP']) {
    const base = runs.get(`${kind}/1 process`)!;
    for (const c of clusters) {
      const list = runs.get(`${kind}/${c.name}`)!;
      const forwardedShare = list.map((r) => r.forwarded.count / r.calls);
      const relative = c.name === '1 process' ? '1x' : ratioText(ratios(list.map((r) => r.perSecond), base.map((r) => r.perSecond)));
      const hasForwarded = list.every((r) => r.forwarded.count > 0);
      rows.push([
        kind,
        c.name,
        spread(summarize(list.map((r) => r.perSecond)), '/s'),
        relative,
        `${fmt(summarize(forwardedShare).median * 100)}%`,
        ms(list.map((r) => p(r.local, 0.5))),
        ms(list.map((r) => p(r.local, 0.99))),
        hasForwarded ? ms(list.map((r) => p(r.forwarded, 0.5))) : '-',
        hasForwarded ? ms(list.map((r) => p(r.forwarded, 0.99))) : '-',
        hasForwarded ? ratioText(ratios(list.map((r) => p(r.forwarded, 0.5)), list.map((r) => p(r.local, 0.5)))) : '-',
      ]);
    }
  }
  const throughput = table(
    ['calls', 'cluster', 'calls/s', 'vs 1 process', 'forwarded', 'local p50', 'local p99', 'forwarded p50', 'forwarded p99', 'forwarded / local p50'],
    rows,
  );
  const steadyTable = table(
    ['cluster', 'steady phase', 'conflicts', 'conflicts/s', 'handovers', 'takeovers', 'fenced commits'],
    clusters.map((c, i) => {
      const s = steady[i]!;
      return [c.name, `${fmt(steadySeconds)} s`, String(s.conflicts), fmt(s.conflicts / steadySeconds), String(s.handovers), String(s.takeovers), String(s.fencedCommits)];
    }),
  );
  const takeoverTable = table(
    [
      'trial',
      "victim's slots",
      "survivors' slots after",
      'answered after the kill',
      'longest HTTP call on it',
      'longest forwarded call in process',
      'failed calls: in flight at the kill',
      'failed calls: sent after the exit',
      'takeovers counted',
      'fenced commits',
      'conflicts',
    ],
    trials.map((t, i) => [
      String(i + 1),
      String(t.victimSlots),
      String(t.survivorSlots),
      `${fmt(t.takeoverMs)} ms`,
      `${fmt(t.httpLongestMs)} ms`,
      `${fmt(t.inProcessLongestMs)} ms`,
      String(t.failedInFlight),
      String(t.failedAfter),
      String(t.counters.takeovers),
      String(t.counters.fencedCommits),
      String(t.counters.conflicts),
    ]),
  );
  const conflictsPerSecond = steady.reduce((n, s) => n + s.conflicts, 0) / steadySeconds;
  const takeoverMs = summarize(trials.map((t) => t.takeoverMs));
  const failedAfter = trials.reduce((n, t) => n + t.failedAfter, 0);
  const failedBefore = trials.reduce((n, t) => n + t.failedBeforeKill, 0);
  return {
    id: '9',
    title,
    setup:
      `${OBJECTS} \`bench.Counter\` objects; one cluster of 1 member and one of 3, each member a child process (\`serve()\` on 127.0.0.1 + \`configureOaas({ store, cluster: { url, leaseMs: ${LEASE_MS} } })\`), ` +
      `each cluster on its own database of one PostgreSQL server (${settings}). In process: ${WORKERS} workers in all, shared evenly by the members, each calling \`await counter.increment()\` ` +
      `on a random object and yielding to the event loop after each call. HTTP: ${CONNECTIONS} sequential request loops in the bench process, shared evenly by the members, each ` +
      `\`POST .../objects/{id}/invokes/increment\` on a random object. ${RUNS} runs of ${RUN_MS / 1000} s per kind and cluster, interleaved, after a ${WARMUP_MS / 1000} s warm-up; median (min-max) over the runs, ` +
      `latencies from per-run histograms (2% buckets) of every call. Takeover: ${TAKEOVER_TRIALS} trials on the 3-member cluster under the same in-process load, ` +
      `SIGKILL to the owner of an object, then one call on that object through a survivor, timed from the kill to its answer.`,
    tables: [throughput, steadyTable, takeoverTable],
    verdicts: [
      {
        target: 'no version conflicts in steady state (conflicts/s = 0)',
        measured: `${fmt(conflictsPerSecond)}/s (${steady.map((s, i) => `${clusters[i]!.name}: ${s.conflicts}`).join(', ')} over ${fmt(steadySeconds)} s)`,
        pass: conflictsPerSecond === 0,
      },
    ],
    notes: [
      `Takeover after SIGKILL: ${spread(takeoverMs, ' ms')} with leaseMs ${LEASE_MS}. A member renews its lease every third of it, so a killed member's lease lapses ` +
        `${fmt((LEASE_MS * 2) / 3)}-${LEASE_MS} ms after the kill; then a survivor takes a slot when a call routed to it finds it free, or at its next round.`,
      `Failed calls: ${trials.reduce((n, t) => n + t.failedInFlight, 0)} in all trials were in flight to the killed member when it died; they may have run there, so they are not sent again. ` +
        (failedAfter === 0 ? 'Every call sent after its exit waited for the takeover and succeeded.' : `${failedAfter} calls sent after its exit failed too.`) +
        (failedBefore === 0 ? '' : ` ${failedBefore} calls failed before the kill.`),
      ...trials.flatMap((t, i) => t.failures.map((f) => `Trial ${i + 1}, a failed call: ${f}`)),
      `"Takeovers counted" is the survivors' \`getStats().cluster.takeovers\` over the trial: ${trials.map((t) => t.counters.takeovers).join(', ')} ` +
        `for ${trials.map((t) => t.victimSlots).join(', ')} slots of the killed member, which the survivors held afterwards (${trials.map((t) => t.survivorSlots).join(', ')} of 256 between them).`,
      'In process, local and forwarded calls both return before their commit (a forwarded call runs as the owner\'s own call, write-behind there); a forwarded one adds the round trip to the owner. ' +
        'Over HTTP both kinds of call are answered after the commit; a relayed one adds the hop between the members.',
      `Checked: in the steady phase every acknowledged increment is in the counts (exactly), and no object changed owner; across each takeover, every answer on the object is above the last one acknowledged over HTTP before the kill.`,
      unclean.length === 0
        ? 'Every member still running at the end stopped cleanly on SIGTERM (graceful handover).'
        : `Members that did not stop cleanly on SIGTERM: ${unclean.map(String).join(', ')}.`,
      'On this 2-core machine the members, PostgreSQL and the load share the cores, so three processes cannot run three times the work of one; compare the ratios.',
    ],
  };
}
