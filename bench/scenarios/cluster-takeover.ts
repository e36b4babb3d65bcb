/**
 * The takeover trial of the cluster scenario: under load, the owner of an
 * object is killed with SIGKILL, and a call on that object through a survivor
 * is timed from the kill to its answer. The failed calls are sorted into
 * those in flight to the killed member when it died and those sent after its
 * exit; no increment acknowledged over HTTP before the kill may be missing
 * after it. A replacement member joins before the next trial.
 */
import { invokeUrl, minus, ownersOf, post, settled, startMembers, totals, type Counters, type MemberProcess } from '../support/cluster-members.js';
import { fmt } from '../support/stats.js';

/** The kill comes this long after the trial's load has started. */
const KILL_AFTER_MS = 1000;

export interface TrialOptions {
  readonly ids: readonly string[];
  readonly leaseMs: number;
  /** In-process workers in all, shared by the members. */
  readonly workers: number;
}

export interface Trial {
  readonly takeoverMs: number;
  readonly victimSlots: number;
  /** Slots the two survivors own between them once the trial's load has ended, before the replacement joins. */
  readonly survivorSlots: number;
  readonly httpLongestMs: number;
  readonly inProcessLongestMs: number;
  /** Failed calls (HTTP and in process): ended before the kill, in flight at it (sent before the victim's exit was seen), sent after that. */
  readonly failedBeforeKill: number;
  readonly failedInFlight: number;
  readonly failedAfter: number;
  /** What failed calls answered (the first of each kind). */
  readonly failures: readonly string[];
  readonly counters: Counters;
}

/**
 * Kills the owner of an object under load and times how long a survivor
 * takes to answer a call on that object; then starts a replacement member
 * and waits for the shares to settle again.
 */
export async function takeover(all: MemberProcess[], members: MemberProcess[], store: string, trial: number, { ids, leaseMs, workers }: TrialOptions): Promise<Trial> {
  const trialLoadMs = 3 * leaseMs + KILL_AFTER_MS;
  const victimIndex = trial % members.length;
  const victim = members[victimIndex]!;
  const survivor = members[(victimIndex + 1) % members.length]!;
  const owners = await ownersOf(members, ids);
  const target = ids.find((id) => owners.get(id) === victimIndex);
  if (target === undefined) throw new Error('cluster scenario: the member to kill owns none of the objects');
  const before = await Promise.all(members.map((m) => m.stats()));
  const victimSlots = before[victimIndex]!.cluster.ownedSlots;
  const survivors = members.filter((m) => m !== victim);

  // Background load in every member (the victim's is lost with it), and a loop of HTTP calls on the target through a survivor.
  const background = survivors.map((m, i) => m.load(ids, workers / members.length, trialLoadMs, 1000 + trial * 10 + i));
  void victim.load(ids, workers / members.length, trialLoadMs, 1000 + trial * 10 + 9).catch(() => undefined);
  let stop = false;
  let lastBeforeKill = 0;
  let killedAt = Number.POSITIVE_INFINITY;
  let httpLongestMs = 0;
  const httpFailures: { sentAt: number; endedAt: number; what: string }[] = [];
  const seen: number[] = [];
  const failed = (sentAt: number, error: unknown): void => {
    const when = sentAt < killedAt ? `sent ${fmt(killedAt - sentAt)} ms before the kill` : `sent ${fmt(sentAt - killedAt)} ms after the kill`;
    const endedAt = performance.now();
    httpFailures.push({ sentAt, endedAt, what: `HTTP call ${when}, failed after ${fmt(endedAt - sentAt)} ms: ${(error as Error).message}` });
  };
  const probe = (async () => {
    while (!stop) {
      const sentAt = performance.now();
      try {
        const value = await post(invokeUrl(survivor, target));
        const ended = performance.now();
        if (ended < killedAt) lastBeforeKill = Math.max(lastBeforeKill, value);
        else seen.push(value);
        httpLongestMs = Math.max(httpLongestMs, ended - sentAt);
      } catch (error) {
        failed(sentAt, error);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  })();

  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
  killedAt = performance.now();
  await victim.kill();
  // Calls sent between the signal and the exit met a process still tearing down: they count as in flight at the kill.
  const diedAt = performance.now();
  // A fresh call once the victim is gone, retried until a survivor answers it.
  let answeredAt: number | undefined;
  while (answeredAt === undefined) {
    const sentAt = performance.now();
    try {
      seen.push(await post(invokeUrl(survivor, target)));
      answeredAt = performance.now();
    } catch (error) {
      failed(sentAt, error);
      if (performance.now() - killedAt > 6 * leaseMs) throw new Error(`cluster scenario: no survivor answered a call on ${target} within ${(6 * leaseMs) / 1000} s of the kill`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const results = await Promise.all(background);
  stop = true;
  await probe;
  const lost = seen.filter((value) => value <= lastBeforeKill);
  if (lost.length > 0) {
    throw new Error(`cluster scenario: after the takeover ${target} answered ${lost[0]}, not above ${lastBeforeKill}, acknowledged before the kill: an acknowledged increment was lost`);
  }
  const after = await Promise.all(survivors.map((m) => m.stats()));
  const counters = minus(totals(after), totals(before.filter((_, i) => i !== victimIndex)));

  // In-process failures carry absolute times (performance.timeOrigin + now() in the member) to compare with this process's.
  const absolute = (t: number): number => performance.timeOrigin + t;
  const inProcessFailures = results.flatMap((r) => r.failures);
  const endedBefore = httpFailures.filter((f) => f.endedAt < killedAt).length + inProcessFailures.filter((f) => f.startedAt + f.tookMs < absolute(killedAt)).length;
  const startedBeforeExit = httpFailures.filter((f) => f.sentAt < diedAt).length + inProcessFailures.filter((f) => f.startedAt < absolute(diedAt)).length;
  const inFlight = startedBeforeExit - endedBefore;
  const inProcessErrors = results.reduce((n, r) => n + r.errors, 0);
  const firstInProcess = inProcessFailures[0];
  const failures = [
    ...(httpFailures[0] === undefined ? [] : [httpFailures[0].what]),
    ...(firstInProcess === undefined
      ? []
      : [
          `in-process ${firstInProcess.forwarded ? 'forwarded' : 'local'} call started ${fmt(Math.abs(absolute(killedAt) - firstInProcess.startedAt))} ms ` +
            `${firstInProcess.startedAt < absolute(killedAt) ? 'before' : 'after'} the kill, failed after ${fmt(firstInProcess.tookMs)} ms: ${firstInProcess.error}`,
        ]),
  ];

  // The replacement, then back to three members sharing the slots.
  members.splice(victimIndex, 1, ...(await startMembers(all, store, 1, leaseMs)));
  await settled(members, 1000);
  return {
    takeoverMs: answeredAt - killedAt,
    victimSlots,
    survivorSlots: after.reduce((n, s) => n + s.cluster.ownedSlots, 0),
    httpLongestMs,
    inProcessLongestMs: Math.max(...results.map((r) => r.forwarded.max)),
    failedBeforeKill: endedBefore,
    failedInFlight: inFlight,
    failedAfter: httpFailures.length + inProcessErrors - startedBeforeExit,
    failures,
    counters,
  };
}
