/**
 * An `oprc.DataService` for tests: a real grpc-js server on 127.0.0.1 that
 * behaves as ODGM's does (pawissanutt/oaas-rs `data-plane/oprc-odgm/src/`:
 * `grpc_service/data.rs`, `identity.rs`, `shard/object_api.rs`,
 * `shard/entry_store_impl.rs`, `shard/unified/object_shard.rs`), with its
 * objects in memory:
 *
 * - object ids and entry keys are ASCII-lowercased, then must match
 *   `^[a-z0-9._:-]+$` and be at most 160 long (`INVALID_ARGUMENT` otherwise);
 * - each object has metadata (a version and a tombstone flag) beside its
 *   entries; a batch that sets entries checks `expected_object_version`
 *   (`ABORTED`, "Version mismatch: expected X, got Y") and steps the version
 *   once; each removed entry that existed steps it once more, and a batch
 *   that only removes steps it once more again; a batch with nothing in it
 *   checks nothing;
 * - `Delete` drops the entries and leaves a tombstone one version up that
 *   nothing clears: later writes land under it and stay invisible to `Get`
 *   and `ListObjects`;
 * - `Set` with no entries creates metadata at version 0 (unless there is
 *   some);
 * - `ListObjects` walks ids in byte order from after the cursor (the raw
 *   key of the last object listed, `<id>\0\0`) and gives a cursor whenever
 *   the page is full;
 * - a class and partition with no shard answer `NOT_FOUND` "not found shard".
 *
 * ODGM's own races (its version check and its writes are separate steps)
 * are not reproduced: each call here runs whole.
 */
import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { dataServiceDefinition } from '../../src/stores/odgm/client.js';
import type { BatchSetValuesRequest, KeyRequest, ListObjectsRequest, ObjectRequest, SetObjectRequest, WireValData } from '../../src/stores/odgm/wire.js';

interface Metadata {
  version: number;
  tombstone: boolean;
}

interface OdgmObject {
  meta: Metadata | undefined;
  readonly entries: Map<string, WireValData>;
}

/** What a test can set up. */
export interface OdgmDataServiceOptions {
  /** Classes with a shard here, each with its partition count; any class and partition when not given. */
  readonly collections?: Readonly<Record<string, number>> | undefined;
  /** ODGM_ENABLE_STRING_ENTRY_KEYS. @default true */
  readonly stringEntryKeys?: boolean | undefined;
  /** Calls left out, answered `UNIMPLEMENTED` as the gateway's DataService answers `GetValue` and `BatchSetValues`. */
  readonly without?: readonly string[] | undefined;
}

/** A running test DataService. */
export interface OdgmDataService {
  /** `127.0.0.1:<port>`, for `new OdgmStore({ address })` or `odgm://` specs. */
  readonly address: string;
  /** Every call received, by method name, in order. */
  readonly calls: string[];
  /** An object as ODGM holds it (tombstones included); `undefined` when it never had metadata or entries. */
  object(clsId: string, partitionId: number, objectId: string): { version: number | undefined; tombstone: boolean; entries: Map<string, Buffer> } | undefined;
  /** Stops serving at once, as a crash would; the objects are kept. */
  stop(): Promise<void>;
  /** Serves again on the same port. */
  start(): Promise<void>;
}

class RpcError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
  ) {
    super(details);
  }
}

const NAME = /^[a-z0-9._:-]+$/;
const MAX_NAME = 160;

/** identity.rs's `normalize_object_id`, with its error texts. */
function normalize(raw: string): { ok: string } | { error: 'empty' | 'length' | 'chars'; len: number } {
  if (raw === '') return { error: 'empty', len: 0 };
  const lower = raw.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const len = Buffer.byteLength(lower);
  if (len > MAX_NAME) return { error: 'length', len };
  if (!NAME.test(lower)) return { error: 'chars', len };
  return { ok: lower };
}

function objectId(raw: string | undefined): string {
  if (raw === undefined || raw === '') throw new RpcError(status.INVALID_ARGUMENT, 'object_id required');
  const result = normalize(raw);
  if ('ok' in result) return result.ok;
  const reason = result.error === 'empty' ? 'empty id' : result.error === 'length' ? `exceeds maximum length ${MAX_NAME} (got ${result.len})` : 'invalid characters present';
  throw new RpcError(status.INVALID_ARGUMENT, `invalid identity: ${reason}`);
}

function entryKey(raw: string): string {
  const result = normalize(raw);
  if ('ok' in result) return result.ok;
  const reason = result.error === 'empty' ? 'cannot be empty' : result.error === 'length' ? `length ${result.len} exceeds maximum ${MAX_NAME}` : 'contains invalid characters';
  throw new RpcError(status.INVALID_ARGUMENT, `entry key ${reason}`);
}

/** Starts a DataService on a free port of 127.0.0.1. */
export async function startOdgmDataService(options: OdgmDataServiceOptions = {}): Promise<OdgmDataService> {
  const shards = new Map<string, Map<string, OdgmObject>>();
  const calls: string[] = [];
  const stringEntryKeys = options.stringEntryKeys ?? true;

  const shard = (clsId: string, partitionId: number | undefined): Map<string, OdgmObject> => {
    // ODGM reads the partition as a u16.
    const partition = (partitionId ?? 0) & 0xffff;
    const count = options.collections?.[clsId];
    if (options.collections !== undefined && (count === undefined || partition >= count)) throw new RpcError(status.NOT_FOUND, 'not found shard');
    const id = `${clsId}\u0000${partition}`;
    let objects = shards.get(id);
    if (objects === undefined) shards.set(id, (objects = new Map<string, OdgmObject>()));
    return objects;
  };
  const requireStringKeys = (): void => {
    if (!stringEntryKeys) throw new RpcError(status.UNIMPLEMENTED, 'string entry keys feature disabled');
  };
  const slot = (objects: Map<string, OdgmObject>, id: string): OdgmObject => {
    let object = objects.get(id);
    if (object === undefined) objects.set(id, (object = { meta: undefined, entries: new Map() }));
    return object;
  };
  /** entry_store_impl.rs `delete_entry`: each entry that existed steps the version. */
  const deleteEntry = (object: OdgmObject, key: string): boolean => {
    if (!object.entries.delete(key)) return false;
    object.meta = { version: (object.meta?.version ?? 0) + 1, tombstone: object.meta?.tombstone ?? false };
    return true;
  };

  const handlers = {
    Get(request: ObjectRequest) {
      const id = objectId(request.object_id);
      const object = shard(request.cls_id, request.partition_id).get(id);
      const live = object !== undefined && object.meta?.tombstone !== true && (object.entries.size > 0 || object.meta !== undefined);
      if (!live) throw new RpcError(status.NOT_FOUND, 'object not found');
      return { obj: { metadata: { cls_id: request.cls_id, partition_id: request.partition_id ?? 0, object_id: id }, entries: Object.fromEntries(object.entries) } };
    },
    GetValue(request: KeyRequest) {
      const id = objectId(request.object_id);
      const objects = shard(request.cls_id, request.partition_id);
      if (request.key === undefined) throw new RpcError(status.INVALID_ARGUMENT, 'key required');
      requireStringKeys();
      const key = entryKey(request.key);
      const object = objects.get(id);
      const value = object?.entries.get(key);
      const version = object?.meta?.version;
      return { ...(value === undefined ? {} : { value }), ...(version === undefined ? {} : { object_version: String(version) }), key };
    },
    Delete(request: ObjectRequest) {
      const id = objectId(request.object_id);
      const object = shard(request.cls_id, request.partition_id).get(id);
      if (object?.meta === undefined || object.meta.tombstone) return {};
      object.entries.clear();
      object.meta = { version: object.meta.version + 1, tombstone: true };
      return {};
    },
    Set(request: SetObjectRequest) {
      const id = objectId(request.object_id);
      const objects = shard(request.cls_id, request.partition_id);
      const entries = Object.entries(request.object.entries ?? {});
      if (entries.length > 0) requireStringKeys();
      const object = slot(objects, id);
      if (entries.length === 0) {
        object.meta ??= { version: 0, tombstone: false };
        return {};
      }
      // The upsert path stores keys as given and steps the version once, checking nothing.
      for (const [key, value] of entries) object.entries.set(key, value);
      object.meta = { version: (object.meta?.version ?? 0) + 1, tombstone: object.meta?.tombstone ?? false };
      return {};
    },
    BatchSetValues(request: BatchSetValuesRequest) {
      requireStringKeys();
      const id = objectId(request.object_id);
      const objects = shard(request.cls_id, request.partition_id);
      const set = new Map(Object.entries(request.values ?? {}).map(([key, value]) => [entryKey(key), value]));
      const remove = (request.delete_keys ?? []).map(entryKey);
      const expected = request.expected_object_version === undefined ? undefined : Number(request.expected_object_version);
      if (set.size === 0 && remove.length === 0) return {};
      const object = slot(objects, id);
      const current = object.meta?.version ?? 0;
      if (expected !== undefined && expected !== current) throw new RpcError(status.ABORTED, `Version mismatch: expected ${expected}, got ${current}`);
      if (set.size > 0) {
        for (const [key, value] of set) object.entries.set(key, value);
        object.meta = { version: current + 1, tombstone: object.meta?.tombstone ?? false };
        for (const key of remove) deleteEntry(object, key);
      } else {
        const deleted = remove.map((key) => deleteEntry(object, key)).some(Boolean);
        if (deleted) object.meta = { version: (object.meta?.version ?? 0) + 1, tombstone: object.meta?.tombstone ?? false };
      }
      return {};
    },
    Capabilities() {
      return { string_ids: true, string_entry_keys: stringEntryKeys, granular_entry_storage: true, event_pipeline_v2: false };
    },
  };

  const listObjects = (request: ListObjectsRequest): object[] => {
    const objects = shard(request.cls_id, request.partition_id);
    const limit = Math.min(request.limit === undefined || request.limit === 0 ? 100 : request.limit, 1024);
    const metaKey = (id: string): Buffer => Buffer.concat([Buffer.from(id), Buffer.from([0, 0])]);
    const cursor = request.cursor === undefined ? undefined : Buffer.from(request.cursor);
    const prefix = request.object_id_prefix;
    const ids = [...objects.keys()].filter((id) => objects.get(id)?.meta !== undefined).sort((a, b) => Buffer.compare(metaKey(a), metaKey(b)));
    const page: { object_id: string; version: string; entry_count: string; next_cursor?: Buffer }[] = [];
    for (const id of ids) {
      if (cursor !== undefined && Buffer.compare(metaKey(id), cursor) <= 0) continue;
      if (prefix !== undefined && !id.startsWith(prefix)) continue;
      const object = objects.get(id)!;
      if (object.meta!.tombstone) continue;
      page.push({ object_id: id, version: String(object.meta!.version), entry_count: String(object.entries.size) });
      if (page.length >= limit) {
        page[page.length - 1]!.next_cursor = metaKey(id);
        break;
      }
    }
    return page;
  };

  const implementation: UntypedServiceImplementation = {
    ListObjects(call: ServerWritableStream<ListObjectsRequest, object>) {
      calls.push('ListObjects');
      try {
        for (const envelope of listObjects(call.request)) call.write(envelope);
        call.end();
      } catch (error) {
        const { code, details } = error instanceof RpcError ? error : { code: status.INTERNAL, details: String(error) };
        call.emit('error', { code, details });
      }
    },
  };
  for (const [name, handler] of Object.entries(handlers)) {
    if (options.without?.includes(name) === true) continue;
    implementation[name] = (call: ServerUnaryCall<unknown, object>, callback: sendUnaryData<object>) => {
      calls.push(name);
      try {
        callback(null, (handler as (request: unknown) => object)(call.request));
      } catch (error) {
        callback(error instanceof RpcError ? { code: error.code, details: error.details } : { code: status.INTERNAL, details: String(error) });
      }
    };
  }
  const definition = dataServiceDefinition(protoLoader);
  const channelOptions = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };

  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const next = new Server(channelOptions);
    next.addService(definition, implementation);
    port = await new Promise<number>((resolve, reject) => {
      next.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) => {
        if (error === null) resolve(bound);
        else reject(error);
      });
    });
    server = next;
  };
  await listen();

  return {
    get address() {
      return `127.0.0.1:${port}`;
    },
    calls,
    object(clsId, partitionId, id) {
      const object = shards.get(`${clsId}\u0000${partitionId}`)?.get(id);
      if (object === undefined) return undefined;
      return {
        version: object.meta?.version,
        tombstone: object.meta?.tombstone ?? false,
        entries: new Map([...object.entries].map(([key, value]) => [key, Buffer.from(value.data ?? new Uint8Array(0))])),
      };
    },
    stop() {
      server?.forceShutdown();
      server = undefined;
      return Promise.resolve();
    },
    start: listen,
  };
}
