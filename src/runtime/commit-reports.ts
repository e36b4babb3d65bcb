import type { Logger } from 'pino';
import { InvalidArgumentError } from '../errors.js';
import type { CommitErrorEvent, CommitErrorListener } from './runtime-types.js';

/** The `onCommitError` listeners: every failed commit, background or explicit, is told to them here. */
export class CommitReports {
  private readonly listeners = new Set<CommitErrorListener>();

  constructor(private readonly logger: Logger) {}

  /** Subscribes to failed commits; returns the unsubscribe function. */
  onCommitError(listener: CommitErrorListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'expected a function');
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Tells the listeners (the failure itself was logged where it happened); a listener that throws is logged, not rethrown. */
  report(event: CommitErrorEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (listenerError) {
        this.logger.error({ err: listenerError }, 'onCommitError listener threw');
      }
    }
  }
}
