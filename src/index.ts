/**
 * oaas-sdk: durable service objects for Node.js.
 *
 * Decorate a class with `@service` and its methods with `@method`; instances
 * become durable objects whose state the SDK persists. See README.md.
 */
import 'reflect-metadata';

// Configuration and the runtime
export type { OaasConfig, LogLevel, ReminderConfig } from './config.js';
export type { Clock } from './clock.js';
export {
  configureOaas,
  getAutoSessionManager,
  currentSession,
  runInSession,
  sessionScope,
  commitAll,
  shutdown,
  onCommitError,
  onReminderError,
  onTriggerError,
  enableAutoCommit,
  disableAutoCommit,
  setAutoCommitInterval,
  healthCheck,
  getStats,
  metricsText,
  watch,
} from './runtime/process-runtime.js';
export type { ChangeEvent, GapEvent, WatchEvent, WatchListener, WatchOptions, WatchTarget, Unwatch } from './runtime/events/watch-types.js';
export type { OaasStats, DurationStats, EventStats, ReminderStats, TriggerStats } from './observability/telemetry.js';
export type { ReminderErrorEvent, ReminderErrorListener } from './runtime/reminders/reminder-reports.js';
export type { TriggerErrorEvent, TriggerErrorListener } from './runtime/triggers/trigger-delivery.js';
export type { TriggerEvent, TriggerKind } from './triggers/outbox.js';
export { OaasRuntime as AutoSessionManager } from './runtime/oaas-runtime.js';
export type { Runtime } from './runtime/runtime.js';
export type { CommitSummary, CommitErrorEvent, CommitErrorListener, CommitSource, ShutdownOptions, HealthReport } from './runtime/runtime-types.js';

// Declaring services
export { service, method, field, transient, getter, setter } from './registry/decorators.js';
export type { ServiceOptions, MethodOptions, FieldOptions, GetterOptions } from './registry/class-meta.js';
export type { TriggerTarget, TriggerClass, DataTriggerOptions, FunctionTriggerOptions } from './registry/trigger-spec.js';
export type { StandardSchemaV1, StandardSchemaProps, StandardSchemaResult, StandardSchemaIssue, StandardSchemaPathSegment } from './registry/standard-schema.js';

// Objects
export { OaasObject } from './object/oaas-object.js';
export type { CreateOptions, LoadOptions, StateOf, StateInit } from './object/oaas-object.js';
export type { ScheduleOptions, ScheduledReminder } from './object/reminders.js';
export { ObjectRef } from './object/object-ref.js';

// Sessions and scopes
export type { Session, CommitResult } from './session/session.js';
export type { ScopeOptions } from './session/scope.js';

// Stores
export type {
  Store,
  ObjectKey,
  StoredObject,
  WriteOp,
  PutOp,
  DeleteOp,
  ApplyOptions,
  CommitFence,
  FencedSlot,
  Isolation,
  ListOptions,
  ListPage,
  ListedObject,
  StoreChange,
  StoreChangeListener,
  DueObject,
  DueOptions,
} from './stores/store.js';
export { MemoryStore } from './stores/memory/memory-store.js';

// Errors
export {
  ERROR_CODES,
  OaasError,
  ConfigurationError,
  InvalidArgumentError,
  RegistrationError,
  InvalidIdError,
  SerializationError,
  ObjectNotFoundError,
  AlreadyExistsError,
  ObjectDeletedError,
  ObjectDetachedError,
  ObjectBusyError,
  PendingChangesError,
  ConflictError,
  FencedError,
  NotOwnerError,
  OwnedElsewhereError,
  LockTimeoutError,
  InvocationTimeoutError,
  InvocationCancelledError,
  CommitError,
  ShutdownError,
  StoreError,
  ClassNotFoundError,
  MethodNotFoundError,
  ApplicationError,
  PayloadTooLargeError,
  UnauthorizedError,
  RemoteError,
  RouteNotFoundError,
  InternalError,
} from './errors.js';
export type { ErrorCode, ErrorKind, ObjectIdentity, VersionConflict, UnpersistedObject } from './errors.js';
export type { WireError } from './protocol/wire.js';

// Manual session API (migration)
export { LegacySessionAdapter } from './legacy/legacy-session-adapter.js';
export type { RpcManager, MetaRepo } from './legacy/legacy-session-adapter.js';
export { Oparaca, getGlobalOaas, newSession } from './legacy/oparaca.js';
export type { OparacaOptions } from './legacy/oparaca.js';
export type { ClsMeta } from './legacy/cls-meta.js';
export type { InvocationRequest, InvocationResponse, ResponseStatus, InvocationErrorBody } from './protocol/wire.js';

// Remote invocation: the HTTP server and the typed client
export { serve } from './server/serve.js';
export type { ServeOptions, RunningServer, CloseOptions } from './server/serve.js';
export { createApp } from './server/app.js';
export type { ServerOptions, DialectName } from './server/app.js';
export { currentInvocation } from './invocation/invocation-context.js';
export type { InvocationContext } from './invocation/invocation-context.js';
export { connect } from './client/client.js';
export type {
  ClientOptions,
  OaasClient,
  RemoteRef,
  RemoteMethod,
  RefOptions,
  InvokeOptions,
  ObjectOptions,
  ListObjectsOptions,
  PutState,
  ObjectState,
  ObjectListing,
  RemoteWatchOptions,
  RemoteClassWatchOptions,
  RemoteWatchEvent,
  RemoteChangeEvent,
  RemoteGapEvent,
} from './client/types.js';

// The OaaS package document
export { exportPackage, buildPackageDocument } from './package/package-export.js';
export type {
  ExportPackageOptions,
  PackageDocumentOptions,
  PackageDocument,
  PackageClass,
  PackageKeySpec,
  PackageKeyType,
  PackageFunctionBinding,
  PackageFunction,
  PackageMetadata,
  DeployOptions,
  PackageProvisionConfig,
  PackageDeployment,
  PackageEvent,
  PackageDataTrigger,
  PackageFuncTrigger,
  PackageTriggerTarget,
} from './package/package-export.js';
