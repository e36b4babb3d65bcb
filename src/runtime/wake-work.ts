import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { ObjectKey } from '../identity.js';
import { coreOf, type LoadOptions, type OaasObject } from '../object/oaas-object.js';
import type { ObjectCore } from '../object/object-core.js';
import type { ClassMeta } from '../registry/class-meta.js';
import type { ResolvedReminderConfig } from '../reminder-config.js';
import type { ScopeOptions } from '../session/scope.js';
import type { Listeners } from './listeners.js';

/**
 * What the work the wake service hands out (a reminder's firing, a trigger
 * event's delivery) shares: the scope it runs in re-runs this many times
 * after meeting another writer's version, reloading first; by then the
 * other writer has usually done the work, and the re-run finds nothing due.
 */
export const WAKE_SCOPE_RETRIES = 3;

/** How to load an object: the runtime's object access. */
export type LoadObject = (ctor: abstract new () => OaasObject, id: string, options: LoadOptions) => Promise<OaasObject>;

/** What the work the wake service hands out needs from the runtime; `E`: the failure report its listeners get. */
export interface WakeWorkParts<E> {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Attempts and back-off (`reminders.maxAttempts`, `retryBaseMs`, `retryCapMs`); trigger delivery retries with the same. */
  readonly config: ResolvedReminderConfig;
  readonly reports: Listeners<E>;
  /** Runs `fn` as a root `sessionScope`. */
  scope<T>(fn: () => Promise<T>, options: ScopeOptions): Promise<T>;
  readonly load: LoadObject;
}

/** The object as the store holds it now (a live instance with no pending changes is read again): due work is decided on fresh state. */
export async function loadFresh(load: LoadObject, meta: ClassMeta, key: ObjectKey): Promise<ObjectCore> {
  return coreOf(await load(meta.ctor as abstract new () => OaasObject, key.objectId, { partitionId: key.partitionId, fresh: true }));
}
