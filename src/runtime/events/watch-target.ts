import { describeValue } from '../../describe.js';
import { InvalidArgumentError } from '../../errors.js';
import { normalizePartitionId } from '../../identity.js';
import { OaasObject } from '../../object/oaas-object.js';
import { ObjectRef } from '../../object/object-ref.js';
import { requireClassMeta } from '../../registry/require-class.js';
import type { WatchListener, WatchOptions } from './watch-types.js';

/** What a watch follows: one object, or every object of one class and partition. */
export type WatchScope = { readonly kind: 'object'; readonly ref: ObjectRef } | { readonly kind: 'class'; readonly clsId: string; readonly partitionId: number };

/** A checked `watch` call. */
export interface WatchRequest {
  readonly target: WatchScope;
  readonly listener: WatchListener;
  readonly since: number | undefined;
  /** A class watch: the last version seen of one object. */
  readonly after: { readonly objectId: string; readonly version: number } | undefined;
  readonly bufferSize: number;
}

/** The default {@link WatchOptions.bufferSize}. */
export const DEFAULT_BUFFER_SIZE = 1000;

/**
 * Checks the arguments of `watch`: an object (an `ObjectRef`, a live object,
 * or `{ clsId, partitionId, objectId }`) or a class (a `@service` class or its
 * class id, with `options.partitionId`). Throws `InvalidArgumentError`, or
 * `ClassNotFoundError` for a class that is not a registered service.
 */
export function checkWatch(target: unknown, listener: unknown, options: unknown, defaultPartition: number): WatchRequest {
  if (typeof listener !== 'function') throw new InvalidArgumentError('listener', `must be a function, got ${describeValue(listener)}`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentError('options', `must be an object, got ${describeValue(options)}`);
  const { since, partitionId, after, bufferSize = DEFAULT_BUFFER_SIZE } = (options ?? {}) as WatchOptions;
  if (!Number.isSafeInteger(bufferSize) || bufferSize < 1) throw new InvalidArgumentError('options.bufferSize', `must be an integer of at least 1, got ${describeValue(bufferSize)}`);
  if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) throw new InvalidArgumentError('options.since', `must be a version (an integer of at least 0), got ${describeValue(since)}`);
  if (after !== undefined && (typeof after !== 'object' || after === null || typeof after.objectId !== 'string' || !Number.isSafeInteger(after.version) || after.version < 0)) {
    throw new InvalidArgumentError('options.after', `must be { objectId, version }, got ${describeValue(after)}`);
  }
  const request = { listener: listener as WatchListener, since, after, bufferSize };
  if (typeof target === 'function' || typeof target === 'string') {
    if (since !== undefined) throw new InvalidArgumentError('options.since', 'applies to an object watch only; a class has no single version');
    const clsId = typeof target === 'string' ? checkClassId(target) : requireClassMeta(target).clsId;
    return { ...request, target: { kind: 'class', clsId, partitionId: partitionId === undefined ? defaultPartition : normalizePartitionId(partitionId, 'options.partitionId') } };
  }
  if (partitionId !== undefined) throw new InvalidArgumentError('options.partitionId', 'applies to a class watch only; an object names its own partition');
  if (after !== undefined) throw new InvalidArgumentError('options.after', 'applies to a class watch only; an object watch resumes with since');
  return { ...request, target: { kind: 'object', ref: refOf(target) } };
}

function checkClassId(clsId: string): string {
  if (clsId === '') throw new InvalidArgumentError('target', 'a class id must not be empty');
  return clsId;
}

function refOf(target: unknown): ObjectRef {
  if (target instanceof ObjectRef) return target;
  if (target instanceof OaasObject) return target.asRef();
  if (typeof target === 'object' && target !== null) {
    const { clsId, partitionId, objectId } = target as Record<string, unknown>;
    if (typeof clsId === 'string' && (typeof objectId === 'string' || typeof objectId === 'number')) {
      return new ObjectRef(clsId, partitionId === undefined ? 0 : (partitionId as number), String(objectId));
    }
  }
  throw new InvalidArgumentError('target', `must be an object (ObjectRef, live object or { clsId, partitionId, objectId }) or a class (a @service class or its class id), got ${describeValue(target)}`);
}
