import { checkBool, checkInt, fromEnv, parseBool, parseNumber, type Env } from './config-checks.js';
import { ConfigurationError } from './errors.js';
import { describeValue } from './describe.js';

/** Options of reminders (`schedule()`). */
export interface ReminderConfig {
  /** Whether this process fires due reminders (scheduling works either way). @default OAAS_REMINDERS ?? true */
  enabled?: boolean | undefined;
  /**
   * How often the process asks the store for due reminders, in ms: the most
   * a reminder set by another process (or before a restart) waits past its
   * time. Reminders this process schedules wake it at their time.
   * @default OAAS_REMINDER_POLL_MS ?? 1000
   */
  pollIntervalMs?: number | undefined;
  /** Firings of one due time before a failing reminder is given up (a repeating one moves to its next period). @default 5 */
  maxAttempts?: number | undefined;
  /** The first retry waits this long; each next one twice as long, up to `retryCapMs`. @default 1000 */
  retryBaseMs?: number | undefined;
  /** @default 60000 */
  retryCapMs?: number | undefined;
}

/** Reminder options after defaults and validation. */
export interface ResolvedReminderConfig {
  readonly enabled: boolean;
  readonly pollIntervalMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
}

const FIELDS: ReadonlySet<string> = new Set(['enabled', 'pollIntervalMs', 'maxAttempts', 'retryBaseMs', 'retryCapMs']);
/** Longest wait a timer takes (Node's limit). */
const MAX_MS = 2_147_483_647;

function checkMs(value: unknown, field: string): number | undefined {
  const ms = checkInt(value, field, 1);
  if (ms !== undefined && ms > MAX_MS) throw new ConfigurationError(field, `expected at most ${MAX_MS} ms, got ${describeValue(value)}`);
  return ms;
}

/** Validates the `reminders` option against the environment and fills in defaults. */
export function resolveReminders(given: unknown, env: Env): ResolvedReminderConfig {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new ConfigurationError('reminders', `expected { enabled?, pollIntervalMs?, maxAttempts?, retryBaseMs?, retryCapMs? }, got ${describeValue(given)}`);
  }
  const fields = (given ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) throw new ConfigurationError(unknown.map((key) => `reminders.${key}`).join(', '), `unknown option${unknown.length === 1 ? '' : 's'} (known: ${[...FIELDS].join(', ')})`);
  const retryBaseMs = checkMs(fields.retryBaseMs, 'reminders.retryBaseMs') ?? 1000;
  const retryCapMs = checkMs(fields.retryCapMs, 'reminders.retryCapMs') ?? Math.max(60_000, retryBaseMs);
  if (retryCapMs < retryBaseMs) throw new ConfigurationError('reminders.retryCapMs', `must be at least retryBaseMs (${retryBaseMs}), got ${retryCapMs}`);
  return {
    enabled: checkBool(fields.enabled, 'reminders.enabled') ?? fromEnv(env, 'OAAS_REMINDERS', 'reminders.enabled', parseBool) ?? true,
    pollIntervalMs:
      checkMs(fields.pollIntervalMs, 'reminders.pollIntervalMs') ??
      fromEnv(env, 'OAAS_REMINDER_POLL_MS', 'reminders.pollIntervalMs', (raw, f) => checkMs(parseNumber(raw, f), f)) ??
      1000,
    maxAttempts: checkInt(fields.maxAttempts, 'reminders.maxAttempts', 1) ?? 5,
    retryBaseMs,
    retryCapMs,
  };
}
