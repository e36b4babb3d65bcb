/**
 * The event section of a class in the package document: its triggers in
 * the field names of Oparaca's `ObjectEvent`. Oparaca's package model has
 * no such section (the platform takes triggers per object, in
 * `ObjData.event`) and ignores it; it is there for a reader or a tool that
 * sets those objects up.
 */
import { RegistrationError } from '../errors.js';
import type { ClassMeta } from '../registry/class-meta.js';
import { hasTriggers } from '../triggers/match.js';
import { resolveTriggers, type ResolvedDataTriggers, type ResolvedTarget } from '../triggers/resolve-triggers.js';

/** A trigger target, with the field names of Oparaca's `TriggerTarget`. */
export interface PackageTriggerTarget {
  /** `<package>.<class>` */
  readonly cls_id: string;
  /** Absent: the partition of the object the event comes from. */
  readonly partition_id?: number;
  /** The method's invocation name. */
  readonly fn_id: string;
  /** Absent: a stateless call. */
  readonly object_id?: string;
}

/** Data triggers of one entry key (Oparaca's `DataTrigger`). */
export interface PackageDataTrigger {
  readonly on_create: readonly PackageTriggerTarget[];
  readonly on_update: readonly PackageTriggerTarget[];
  readonly on_delete: readonly PackageTriggerTarget[];
}

/** Function triggers of one function (Oparaca's `FuncTrigger`). */
export interface PackageFuncTrigger {
  readonly on_complete: readonly PackageTriggerTarget[];
  readonly on_error: readonly PackageTriggerTarget[];
}

/**
 * A class's triggers, shaped as Oparaca's `ObjectEvent`: function triggers
 * by function name, data triggers by entry key, and the class's own data
 * triggers (`@service`) under {@link CLASS_TRIGGER_KEY}.
 */
export interface PackageEvent {
  readonly func_trigger: Readonly<Record<string, PackageFuncTrigger>>;
  readonly data_trigger: Readonly<Record<string, PackageDataTrigger>>;
}

/**
 * The `data_trigger` key of a class's own data triggers: they fire on any
 * change of the object. Outside Oparaca's entry-key pattern, so no entry of
 * the platform can have it.
 */
export const CLASS_TRIGGER_KEY = '*';

/** Names starting with `_` are private: never served, so never exported. */
export function isPrivateName(name: string): boolean {
  return name.startsWith('_');
}

function targetOf(target: ResolvedTarget): PackageTriggerTarget {
  return {
    cls_id: target.clsId,
    ...(target.partitionId === undefined ? {} : { partition_id: target.partitionId }),
    fn_id: target.method,
    ...(target.objectId === undefined ? {} : { object_id: target.objectId }),
  };
}

function dataTriggerOf(triggers: ResolvedDataTriggers): PackageDataTrigger {
  return { on_create: triggers.create.map(targetOf), on_update: triggers.update.map(targetOf), on_delete: triggers.delete.map(targetOf) };
}

/** The class's triggers, resolved (so an unknown target fails the export); `undefined` when it has none that are exported. */
export function eventOf(meta: ClassMeta): PackageEvent | undefined {
  if (!hasTriggers(meta)) return undefined;
  const resolved = resolveTriggers(meta);
  const functions: [string, PackageFuncTrigger][] = [];
  for (const [name, triggers] of resolved.functions) {
    // Like its binding, a private method's entry would name a function the package does not have.
    if (!isPrivateName(name)) functions.push([name, { on_complete: triggers.complete.map(targetOf), on_error: triggers.error.map(targetOf) }]);
  }
  const data: [string, PackageDataTrigger][] = [];
  if (meta.triggers.data !== undefined) data.push([CLASS_TRIGGER_KEY, dataTriggerOf(resolved.data)]);
  for (const field of resolved.fields) {
    if (field.key === CLASS_TRIGGER_KEY) throw new RegistrationError(`${meta.clsId}: field ${field.field} is stored as ${CLASS_TRIGGER_KEY}, the key of the class's own triggers in the package document; give it another key`);
    data.push([field.key, dataTriggerOf(field)]);
  }
  if (functions.length === 0 && data.length === 0) return undefined;
  // fromEntries defines own properties: an entry key such as `__proto__` stays an entry.
  return { func_trigger: Object.fromEntries(functions), data_trigger: Object.fromEntries(data) };
}
