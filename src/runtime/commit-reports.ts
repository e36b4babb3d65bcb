import type { Logger } from 'pino';
import { Listeners } from './listeners.js';
import type { CommitErrorEvent } from './runtime-types.js';

/** The `onCommitError` listeners: every failed commit, background or explicit, is told to them here. */
export class CommitReports extends Listeners<CommitErrorEvent> {
  constructor(logger: Logger) {
    super('onCommitError', logger);
  }
}
