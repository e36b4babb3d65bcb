/**
 * Which targets a change or a call fires: pure functions over resolved
 * triggers, called on the commit path.
 */
import { describeValue } from '../describe.js';
import { InvalidArgumentError } from '../errors.js';
import type { ClassMeta } from '../registry/class-meta.js';
import type { ResolvedTarget, ResolvedTriggers } from './resolve-triggers.js';

/** What a commit did to an object. */
export type DataChangeKind = 'create' | 'update' | 'delete';

/** How a call of a method ended. */
export type CallOutcome = 'complete' | 'error';

const KINDS: ReadonlySet<string> = new Set<DataChangeKind>(['create', 'update', 'delete']);
const OUTCOMES: ReadonlySet<string> = new Set<CallOutcome>(['complete', 'error']);

/** Whether a class declares any trigger: lets the commit path skip the rest for most classes. */
export function hasTriggers(meta: ClassMeta): boolean {
  const triggers = (meta as Partial<ClassMeta> | null | undefined)?.triggers;
  if (triggers === undefined) throw new InvalidArgumentError('meta', 'expected the metadata of a registered @service class');
  return triggers.data !== undefined || triggers.fields.size > 0 || triggers.functions.size > 0;
}

function sameTarget(a: ResolvedTarget, b: ResolvedTarget): boolean {
  return a.clsId === b.clsId && a.method === b.method && a.objectId === b.objectId && a.partitionId === b.partitionId;
}

/** Appends the targets not already listed (lists are short: a linear search beats hashing here). */
function addDistinct(out: ResolvedTarget[], targets: readonly ResolvedTarget[]): void {
  for (const target of targets) if (!out.some((seen) => sameTarget(seen, target))) out.push(target);
}

/**
 * The targets a committed change of an object fires: the class's triggers
 * for `kind`, then those of each field whose entry key is in `changedKeys`,
 * in declaration order, each distinct target once. A creation or a deletion
 * concerns every field, so every field's `onCreate` / `onDelete` fires
 * whatever `changedKeys` holds.
 */
export function dataTargets(resolved: ResolvedTriggers, kind: DataChangeKind, changedKeys: readonly string[]): ResolvedTarget[] {
  if (!KINDS.has(kind)) throw new InvalidArgumentError('kind', `expected 'create', 'update' or 'delete', got ${describeValue(kind)}`);
  if (!Array.isArray(changedKeys)) throw new InvalidArgumentError('changedKeys', 'expected an array of entry keys');
  const out: ResolvedTarget[] = [];
  addDistinct(out, resolved.data[kind]);
  if (resolved.fields.length === 0) return out;
  const changed = kind === 'update' ? new Set(changedKeys) : undefined;
  for (const field of resolved.fields) {
    if (changed === undefined || changed.has(field.key)) addDistinct(out, field[kind]);
  }
  return out;
}

/** The targets a call of `methodName` (an invocation name) fires when it ends with `outcome`; none for a method without triggers. */
export function functionTargets(resolved: ResolvedTriggers, methodName: string, outcome: CallOutcome): ResolvedTarget[] {
  if (typeof methodName !== 'string' || methodName === '') throw new InvalidArgumentError('methodName', 'expected a method name');
  if (!OUTCOMES.has(outcome)) throw new InvalidArgumentError('outcome', `expected 'complete' or 'error', got ${describeValue(outcome)}`);
  const triggers = resolved.functions.get(methodName);
  const out: ResolvedTarget[] = [];
  if (triggers !== undefined) addDistinct(out, triggers[outcome]);
  return out;
}
