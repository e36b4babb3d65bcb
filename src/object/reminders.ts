/**
 * Reminders: calls an object asks the runtime to make later. They are part
 * of the object's state (one reserved entry, {@link REMINDERS_ENTRY}), so a
 * reminder is written by the commit that writes the change which set it,
 * and rolled back with it. This module holds their shape, the checks of
 * `schedule()`'s options and the arithmetic of due times; firing them is
 * the runtime's (`runtime/reminders/`).
 */
import { describeValue } from '../describe.js';
import { InvalidArgumentError, MethodNotFoundError } from '../errors.js';
import type { ClassMeta, MethodMeta } from '../registry/class-meta.js';
import { encodeState, toStateValue } from './codec.js';

/**
 * The entry key reminders are stored under, and the property of the plain
 * instance that holds them while the object is live (not enumerable, and
 * `_`-prefixed, so it is never a state field or part of an object's JSON).
 */
export const REMINDERS_ENTRY = '__oaas_reminders';

/** Options of `schedule()`: when (one of `inMs`, `at`, or only `everyMs`), how often, under which name, with which arguments. */
export interface ScheduleOptions {
  /** Due this many ms from now (an integer >= 0). */
  readonly inMs?: number | undefined;
  /** Due at this time (a `Date` or ms since the epoch). */
  readonly at?: Date | number | undefined;
  /** Fire again every this many ms (an integer >= 1) after each firing; alone, the first firing is `everyMs` from now. */
  readonly everyMs?: number | undefined;
  /** The reminder's name, unique on the object: scheduling a name again replaces it. @default the method's name */
  readonly name?: string | undefined;
  /** Arguments of the call, stored with the reminder (state values: JSON, dates, maps, refs...). @default [] */
  readonly args?: readonly unknown[] | undefined;
}

/** A reminder as stored. */
export interface Reminder {
  readonly name: string;
  /** The invocation name of the `@method` to call. */
  readonly method: string;
  /** When it is due next (ms since the epoch). */
  readonly due: number;
  /** The period of a repeating reminder. */
  readonly everyMs?: number | undefined;
  readonly args: readonly unknown[];
  /** Failed firings of the due time in a row (reset by a success). */
  readonly attempts: number;
}

/** A reminder as `this.schedules` shows it: a frozen copy. */
export interface ScheduledReminder {
  readonly name: string;
  readonly method: string;
  readonly due: Date;
  readonly everyMs: number | undefined;
  readonly args: readonly unknown[];
  /** Failed firings of this due time so far (the next one is a retry when > 0). */
  readonly attempts: number;
}

/** Longest reminder name, in characters. */
export const MAX_REMINDER_NAME = 200;
/** Latest due time accepted: year 275760 is where `Date` ends; well before it, integers stay exact. */
const MAX_TIME = 8.64e15;

function integerIn(value: unknown, min: number, argument: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(argument, `expected an integer >= ${min}, got ${describeValue(value)}`);
  }
  return value;
}

function dueTime(at: unknown): number {
  const ms = at instanceof Date ? at.getTime() : at;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_TIME) {
    throw new InvalidArgumentError('at', `expected a valid Date or ms since the epoch, got ${describeValue(at)}`);
  }
  return Math.floor(ms);
}

/** The `@method` a reminder may call: an object method of the class, not a streaming one. */
export function reminderMethod(meta: ClassMeta, name: unknown): MethodMeta {
  if (typeof name !== 'string' || name === '') throw new InvalidArgumentError('method', `expected the name of a @method, got ${describeValue(name)}`);
  const method = meta.methodsByName.get(name);
  if (method === undefined) throw new MethodNotFoundError(meta.clsId, name);
  if (method.streaming) throw new InvalidArgumentError('method', `${meta.clsId}.${name} streams its results; a reminder can only call a method that returns once`);
  return method;
}

/** Checks `schedule(method, options)` and builds the reminder it asks for, `now` being the clock's time. */
export function buildReminder(meta: ClassMeta, methodName: unknown, options: unknown, now: number, where: { clsId: string; objectId: string }): Reminder {
  const method = reminderMethod(meta, methodName);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', `expected { inMs } or { at } or { everyMs }, got ${describeValue(options)}`);
  const { inMs, at, everyMs, name, args } = options as ScheduleOptions;
  for (const key of Object.keys(options)) {
    if (!['inMs', 'at', 'everyMs', 'name', 'args'].includes(key)) throw new InvalidArgumentError(`options.${key}`, 'unknown option (expected inMs, at, everyMs, name, args)');
  }
  if (inMs !== undefined && at !== undefined) throw new InvalidArgumentError('options', 'give inMs or at, not both');
  const period = everyMs === undefined ? undefined : integerIn(everyMs, 1, 'everyMs');
  let due: number;
  if (inMs !== undefined) due = now + integerIn(inMs, 0, 'inMs');
  else if (at !== undefined) due = dueTime(at);
  else if (period !== undefined) due = now + period;
  else throw new InvalidArgumentError('options', 'say when: inMs, at or everyMs');
  if (due > MAX_TIME) throw new InvalidArgumentError('inMs', 'the due time is past the end of Date');
  const reminderName = name ?? method.name;
  if (typeof reminderName !== 'string' || reminderName === '' || reminderName.length > MAX_REMINDER_NAME) {
    throw new InvalidArgumentError('name', `expected a string of 1 to ${MAX_REMINDER_NAME} characters, got ${describeValue(name)}`);
  }
  if (args !== undefined && !Array.isArray(args)) throw new InvalidArgumentError('args', `expected an array of arguments, got ${describeValue(args)}`);
  const copied = toStateValue(args ?? [], { clsId: where.clsId, objectId: where.objectId, field: `reminder ${reminderName} args` }) as unknown[];
  return { name: reminderName, method: method.name, due, ...(period === undefined ? {} : { everyMs: period }), args: copied, attempts: 0 };
}

/** The reminders with `reminder` in place of the one of its name, ordered by name (so equal sets encode alike). */
export function withReminder(reminders: readonly Reminder[] | undefined, reminder: Reminder): Reminder[] {
  const others = (reminders ?? []).filter((r) => r.name !== reminder.name);
  others.push(reminder);
  return others.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The earliest due time, or `null` when there is none (the store's wake time). */
export function nextWake(reminders: readonly Reminder[] | undefined): number | null {
  if (reminders === undefined || reminders.length === 0) return null;
  let earliest = reminders[0]!.due;
  for (const r of reminders) if (r.due < earliest) earliest = r.due;
  return earliest;
}

/** The reminders due at `now`, earliest first (ties by name). */
export function dueReminders(reminders: readonly Reminder[] | undefined, now: number): Reminder[] {
  return (reminders ?? []).filter((r) => r.due <= now).sort((a, b) => a.due - b.due || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * What a reminder becomes once it has fired at `now`: a one-off is gone
 * (`undefined`); a repeating one is due at its next period after `now`, so
 * periods missed while no process ran are not fired one by one.
 */
export function afterFiring(reminder: Reminder, now: number): Reminder | undefined {
  const every = reminder.everyMs;
  if (every === undefined) return undefined;
  const missed = Math.max(0, Math.floor((now - reminder.due) / every));
  return { ...reminder, due: reminder.due + (missed + 1) * every, attempts: 0 };
}

/** The reminders after `fired` took effect (`next` in its place, or nothing). */
export function replaced(reminders: readonly Reminder[], name: string, next: Reminder | undefined): Reminder[] {
  return next === undefined ? reminders.filter((r) => r.name !== name) : withReminder(reminders, next);
}

/** The reminders as stored, read back from the entry; a malformed entry reads as none (and is rewritten at the next schedule). */
export function parseReminders(value: unknown): Reminder[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Reminder[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r.name !== 'string' || typeof r.method !== 'string' || typeof r.due !== 'number' || !Array.isArray(r.args)) continue;
    const everyMs = typeof r.everyMs === 'number' ? r.everyMs : undefined;
    out.push({ name: r.name, method: r.method, due: r.due, ...(everyMs === undefined ? {} : { everyMs }), args: r.args as unknown[], attempts: typeof r.attempts === 'number' ? r.attempts : 0 });
  }
  return out.length === 0 ? undefined : out;
}

/** The entry's text, or `undefined` when there are no reminders (the entry is then removed). */
export function encodeReminders(reminders: readonly Reminder[] | undefined): string | undefined {
  return reminders === undefined || reminders.length === 0 ? undefined : encodeState(reminders);
}

/** What `this.schedules` returns. */
export function describeReminders(reminders: readonly Reminder[] | undefined): readonly ScheduledReminder[] {
  return Object.freeze(
    (reminders ?? []).map((r) =>
      Object.freeze({ name: r.name, method: r.method, due: new Date(r.due), everyMs: r.everyMs, args: Object.freeze(toStateValue(r.args, { clsId: '', objectId: '', field: 'args' }) as unknown[]), attempts: r.attempts }),
    ),
  );
}
