import type { ObjectRef } from '../../object/object-ref.js';

/** A firing of a reminder that failed (its method threw, or the commit of what it did failed). */
export interface ReminderErrorEvent {
  readonly error: Error;
  /** The object whose reminder it is. */
  readonly ref: ObjectRef;
  /** The reminder's name and the method it calls. */
  readonly name: string;
  readonly method: string;
  /** Failed firings of this due time so far, this one included. */
  readonly attempt: number;
  /** When it is tried again; `undefined` when it was given up (`dropped`). */
  readonly retryAt: Date | undefined;
  /** Given up after `reminders.maxAttempts` firings: a one-off is removed, a repeating one moves to its next period. */
  readonly dropped: boolean;
}

export type ReminderErrorListener = (event: ReminderErrorEvent) => void;
