import type { Logger } from 'pino';
import { InvalidArgumentError } from '../errors.js';

/**
 * The listeners of one kind of report (`onCommitError`-like): each is told
 * every event; a listener that throws is logged, never rethrown, so one bad
 * listener neither stops the others nor the work that reports.
 */
export class Listeners<E> {
  private readonly listeners = new Set<(event: E) => void>();

  /** @param name the subscribing function, for messages (`onReminderError`) */
  constructor(
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  /** Subscribes; returns the unsubscribe function. */
  add(listener: (event: E) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'expected a function');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: E): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (listenerError) {
        this.logger.error({ err: listenerError }, `${this.name} listener threw`);
      }
    }
  }
}
