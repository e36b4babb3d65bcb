import { RegistrationError } from '../errors.js';
import type { AccessorMeta, ClassMeta, MethodMeta } from '../registry/class-meta.js';

/** Members of every object; a state field may not shadow them. */
const RESERVED = new Set(['id', 'partitionId', 'clsId', 'version', 'delete', 'asRef', 'checkpoint', 'refresh', 'schedule', 'unschedule', 'schedules', 'constructor']);

/** Entry keys the SDK keeps for itself (reminders, ...): no field may be stored under one. */
const RESERVED_KEY_PREFIX = '__oaas_';

/**
 * What a property of a live object is, for the proxy's traps: one lookup
 * per access instead of one per kind. Every member has the same shape, so
 * the traps read them without turning polymorphic.
 */
export interface Member {
  readonly kind: 'method' | 'accessor' | 'field';
  readonly method: MethodMeta | undefined;
  readonly accessor: AccessorMeta | undefined;
  /** A field's position in {@link StateFields.props} (-1 for the others). */
  readonly index: number;
}

/**
 * The persisted fields of a class: the instance's own enumerable properties
 * after construction with no arguments, minus `_`-prefixed and `@transient`
 * ones, each with the key it is stored under.
 */
export class StateFields {
  readonly props: readonly string[];
  /** Each field's stored key as JSON text, by position: the member names of a state document. */
  readonly jsonKeys: readonly string[];
  private readonly keyByProp: ReadonlyMap<string, string>;
  private readonly propByKey: ReadonlyMap<string, string>;
  private readonly members = new Map<string, Member>();

  constructor(props: readonly string[], keyByProp: ReadonlyMap<string, string>, meta: ClassMeta) {
    this.props = props;
    this.keyByProp = keyByProp;
    this.propByKey = new Map([...keyByProp].map(([p, k]) => [k, p]));
    this.jsonKeys = props.map((prop) => JSON.stringify(keyByProp.get(prop) ?? prop));
    // The order of precedence of the instance proxy: methods, then accessors, then fields.
    const add = (prop: string, member: Member): void => {
      if (!this.members.has(prop)) this.members.set(prop, member);
    };
    for (const [prop, method] of meta.methods) add(prop, { kind: 'method', method, accessor: undefined, index: -1 });
    for (const [prop, accessor] of meta.accessors) add(prop, { kind: 'accessor', method: undefined, accessor, index: -1 });
    props.forEach((prop, index) => add(prop, { kind: 'field', method: undefined, accessor: undefined, index }));
  }

  /** The SDK member a property of a live object names, if any. */
  memberOf(prop: string): Member | undefined {
    return this.members.get(prop);
  }

  /** Position of a property in {@link props} (-1 when it is not a field). */
  indexOf(prop: string): number {
    return this.props.indexOf(prop);
  }

  /** The position of a state field, or -1 (a method, an accessor, anything else): one lookup for a write. */
  fieldIndex(prop: string): number {
    const member = this.members.get(prop);
    return member === undefined ? -1 : member.index;
  }

  has(prop: string): boolean {
    return this.keyByProp.has(prop);
  }

  /** The stored key of a property. */
  keyOf(prop: string): string {
    return this.keyByProp.get(prop) ?? prop;
  }

  /** The property a stored key belongs to, if it is still a field of the class. */
  propOf(key: string): string | undefined {
    return this.propByKey.get(key);
  }
}

/**
 * How a store keeps entry keys when it does not keep them as given (ODGM
 * lowercases them): fields are stored under the normalised key, so what is
 * written reads back under the same key.
 */
export interface EntryKeyRule {
  /** The store, for messages: `the odgm store`. */
  readonly owner: string;
  /** The key the store keeps for `key`. */
  normalize(key: string): string;
  /** Why the store cannot keep a normalised key at all (`undefined` when it can), e.g. a character it refuses. */
  problem(key: string): string | undefined;
}

const cache = new WeakMap<ClassMeta, StateFields>();
const cacheByRule = new WeakMap<EntryKeyRule, WeakMap<ClassMeta, StateFields>>();

/**
 * The state fields of a class, read off its first constructed instance;
 * with a `rule`, each key as that store keeps it, and two fields whose
 * keys become one are refused.
 */
export function stateFieldsOf(meta: ClassMeta, instance: object, rule?: EntryKeyRule): StateFields {
  let byMeta = cache;
  if (rule !== undefined) {
    byMeta = cacheByRule.get(rule) ?? new WeakMap();
    cacheByRule.set(rule, byMeta);
  }
  const cached = byMeta.get(meta);
  if (cached !== undefined) return cached;
  const props: string[] = [];
  const keyByProp = new Map<string, string>();
  const seenKeys = new Map<string, string>();
  for (const prop of Object.keys(instance)) {
    if (prop.startsWith('_') || meta.transient.has(prop) || meta.accessors.has(prop)) continue;
    if (RESERVED.has(prop) || meta.methods.has(prop)) {
      throw new RegistrationError(`${meta.clsId}: state field ${prop} shadows a member of the object; rename it`);
    }
    const key = storedKey(meta, prop, meta.fieldKeys.get(prop) ?? prop, rule);
    const other = seenKeys.get(key);
    if (other !== undefined) {
      const on = rule === undefined ? '' : ` on ${rule.owner}; give one of them another key with @field({ key })`;
      throw new RegistrationError(`${meta.clsId}: fields ${other} and ${prop} are both stored as ${key}${on}`);
    }
    seenKeys.set(key, prop);
    props.push(prop);
    keyByProp.set(prop, key);
  }
  for (const accessor of meta.accessors.values()) {
    if (!keyByProp.has(accessor.field)) {
      throw new RegistrationError(`${meta.clsId}: @${accessor.kind} ${accessor.name} names ${accessor.field}, which is not a state field`);
    }
  }
  const fields = new StateFields(props, keyByProp, meta);
  byMeta.set(meta, fields);
  return fields;
}

function storedKey(meta: ClassMeta, prop: string, key: string, rule: EntryKeyRule | undefined): string {
  if (key.startsWith(RESERVED_KEY_PREFIX)) throw new RegistrationError(`${meta.clsId}: field ${prop} is stored as ${key}; keys starting with ${RESERVED_KEY_PREFIX} are the SDK's own; give it another key with @field({ key })`);
  if (rule === undefined) return key;
  const normalized = rule.normalize(key);
  const problem = rule.problem(normalized);
  if (problem !== undefined) throw new RegistrationError(`${meta.clsId}: field ${prop} is stored as ${key}, which ${rule.owner} cannot keep: ${problem}; give it a key with @field({ key })`);
  return normalized;
}
