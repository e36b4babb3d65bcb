/**
 * The DataService calls the ODGM store makes, in the store's terms: object
 * keys in, versions and entry maps out. Errors are left as gRPC raised them
 * (the store translates them at its boundary), except `NOT_FOUND` for an
 * object, which is an answer here, not a failure.
 */
import { VAL_TYPE } from '../../protocol/oprc/messages.js';
import type { ObjectKey } from '../store.js';
import type { DataServiceClient } from './client.js';
import { GRPC_STATUS, grpcStatus, isMissingShard } from './errors.js';
import { wireCount, type ObjectMetaEnvelope, type ObjectRequest, type WireValData } from './wire.js';

/**
 * The entry `GetValue` asks for to learn an object's version: ODGM answers
 * with the object's version whether or not the entry exists. A `:` cannot
 * appear in a property name, so no field's default key is this one.
 */
export const VERSION_PROBE_KEY = 'oaas:version';

/** What ODGM holds under a key. A deleted object leaves a tombstone that keeps its version and that no call removes. */
export type Found =
  | { readonly kind: 'absent' }
  | { readonly kind: 'deleted'; readonly version: number }
  | { readonly kind: 'live'; readonly version: number; readonly entries: ReadonlyMap<string, Uint8Array> };

function request(key: ObjectKey): ObjectRequest {
  return { cls_id: key.clsId, partition_id: key.partitionId, object_id: key.objectId };
}

function toWire(set: ReadonlyMap<string, Uint8Array>): Record<string, WireValData> {
  // Copy: the bytes are encoded later, and the caller may change its buffer meanwhile.
  return Object.fromEntries([...set].map(([entryKey, value]) => [entryKey, { data: new Uint8Array(value), type: VAL_TYPE.byte }]));
}

/** The calls, each with the store's deadline. */
export class OdgmCalls {
  constructor(
    readonly client: DataServiceClient,
    private readonly timeoutMs: number,
  ) {}

  /** The object's version as ODGM's metadata has it (a tombstone's too); `undefined` when ODGM has never seen the object. */
  async version(key: ObjectKey): Promise<number | undefined> {
    const reply = await this.client.unary('GetValue', { ...request(key), key: VERSION_PROBE_KEY }, this.timeoutMs);
    return reply.object_version === undefined ? undefined : wireCount(reply.object_version, 'object version');
  }

  /** The object's entries, `undefined` when ODGM has no live object (never written, or deleted). */
  async entries(key: ObjectKey): Promise<Map<string, Uint8Array> | undefined> {
    let reply;
    try {
      reply = await this.client.unary('Get', request(key), this.timeoutMs);
    } catch (error) {
      const status = grpcStatus(error);
      if (status?.code === GRPC_STATUS.NOT_FOUND && !isMissingShard(status)) return undefined;
      throw error;
    }
    // Copied out of the driver's buffers: the caller gets bytes nobody else holds.
    return new Map(Object.entries(reply.obj?.entries ?? {}).map(([entryKey, value]) => [entryKey, new Uint8Array(value.data ?? new Uint8Array(0))]));
  }

  /**
   * Reads the version first, then the entries. ODGM writes a batch's entries
   * before its version, so entries read after the version are at least that
   * new: a later write that expects this version can only fail, never pass
   * over changes the reader did not see.
   */
  async read(key: ObjectKey): Promise<Found> {
    const version = await this.version(key);
    if (version === undefined) return { kind: 'absent' };
    const entries = await this.entries(key);
    return entries === undefined ? { kind: 'deleted', version } : { kind: 'live', version, entries };
  }

  /** `BatchSetValues`: sets and removes entries of one object, checking ODGM's version when `expected` is given. */
  async batchSet(key: ObjectKey, set: ReadonlyMap<string, Uint8Array>, remove: readonly string[], expected: number | undefined): Promise<void> {
    await this.client.unary('BatchSetValues', { ...request(key), values: toWire(set), delete_keys: remove, expected_object_version: expected }, this.timeoutMs);
  }

  /** `Set` with no entries: ODGM creates the object's metadata, at version 0, unless it has some already. */
  async createEmpty(key: ObjectKey): Promise<void> {
    await this.client.unary('Set', { ...request(key), object: { entries: {} } }, this.timeoutMs);
  }

  /** `Delete`: removes the object's entries and leaves a tombstone one version up; a no-op for an absent or deleted object. */
  async delete(key: ObjectKey): Promise<void> {
    await this.client.unary('Delete', request(key), this.timeoutMs);
  }

  /** One page of `ListObjects`. */
  listObjects(clsId: string, partitionId: number, prefix: string, limit: number, cursor: Uint8Array | undefined): Promise<ObjectMetaEnvelope[]> {
    return this.client.listObjects(
      { cls_id: clsId, partition_id: partitionId, object_id_prefix: prefix === '' ? undefined : prefix, limit, cursor },
      this.timeoutMs,
    );
  }

  /** `Capabilities`: whether this DataService keeps string entry keys, which `BatchSetValues` needs. */
  async capabilities(timeoutMs = this.timeoutMs): Promise<{ stringEntryKeys: boolean }> {
    const reply = await this.client.unary('Capabilities', {}, timeoutMs);
    return { stringEntryKeys: reply.string_entry_keys === true };
  }
}
