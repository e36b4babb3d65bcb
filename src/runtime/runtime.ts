import type { Logger } from 'pino';
import type { ObjectRef } from '../object/object-ref.js';
import type { CreateOptions, LoadOptions, OaasObject } from '../object/oaas-object.js';
import type { Telemetry } from '../observability/telemetry.js';
import type { ScopeOptions } from '../session/scope.js';
import type { CommitResult, Session } from '../session/session.js';
import type { Store } from '../stores/store.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import type { Unwatch, WatchListener, WatchOptions, WatchTarget } from './events/watch-types.js';
import type { HealthReport } from './runtime-types.js';

/**
 * What the layers above the runtime (the gateway, the HTTP server, the
 * manual-session adapter) use of it, and all they use: objects reached
 * through a `Runtime` are that runtime's, never the process-wide one's.
 */
export interface Runtime {
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly defaultPartition: number;
  /** The remote server the manual API invokes through, when configured. */
  readonly remote: { readonly url: string; readonly token: string | undefined } | undefined;
  readonly isShutDown: boolean;
  /** Cluster mode: this process as a member (routing calls to owners, handovers); `undefined` otherwise. */
  readonly cluster: ClusterNode | undefined;
  /** The runtime's store, usable before it has finished opening (the runtime alone closes it). */
  readonly storeView: Store;
  /** How long an idempotency record made now is kept (`idempotencyRetentionMs`), or `undefined`: for good. */
  idempotencyExpiry(): number | undefined;
  create(ctor: abstract new () => OaasObject, init: unknown, options: CreateOptions | undefined): OaasObject;
  load(ctor: abstract new () => OaasObject, id: unknown, options: LoadOptions | undefined): Promise<OaasObject>;
  refFor(cls: abstract new () => OaasObject, objId: unknown, partitionId?: number): ObjectRef;
  runInSession<T>(fn: () => T | Promise<T>): Promise<T>;
  withSession<T>(session: Session, fn: () => T): T;
  openManualSession(partitionId?: number): Session;
  sessionScope<T>(fn: (session: Session) => T | Promise<T>, options?: ScopeOptions): Promise<T>;
  commitObjects(objects: readonly OaasObject[]): Promise<CommitResult>;
  /** See `watch`. */
  watch(target: WatchTarget, listener: WatchListener, options?: WatchOptions): Unwatch;
  healthCheck(): Promise<HealthReport>;
  metricsText(): Promise<string>;
}
