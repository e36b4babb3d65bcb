/**
 * How the Redis backend lays out its data, and the Lua script that applies a
 * batch.
 *
 * Layout, under a key prefix (`oaas` unless configured):
 * - `<prefix>:o:{<cls>:<partition>}:<objectId>`: one hash per object. Its
 *   fields are the entry keys, plus {@link VERSION_FIELD} holding the version.
 * - `<prefix>:i:{<cls>:<partition>}`: a sorted set of the object ids of one
 *   class and partition, every score 0, so `ZRANGE ... BYLEX` walks them in
 *   byte order, which for UTF-8 is the code-point order `list` promises.
 * - `<prefix>:wake`: a sorted set of the objects that have a wake time,
 *   scored by it (see `wakes.ts`). A batch names it only when it sets or
 *   clears a wake time or deletes an object.
 * - `<prefix>:meta`: a hash with `schema_version`.
 *
 * The version lives in the object's own hash, under a field name no entry key
 * can have: the single byte 0xFF, which is never valid UTF-8, while entry
 * keys are well-formed strings sent as UTF-8. Keeping it there (rather than
 * in a companion key) means one key per object: an object whose entries were
 * all removed still exists (Redis drops empty hashes, the version field keeps
 * it), `DEL` removes an object whole, and `HGETALL` reads it in one command.
 *
 * `{<cls>:<partition>}` is a Redis Cluster hash tag, so an object and its
 * partition's index always share a slot. In `<cls>`, `%`, `{`, `}` and `:`
 * are percent-escaped: the tag then ends at the first `}`, and no two
 * (class, partition, id) triples can build the same key.
 */
import { createHash } from 'node:crypto';
import type { Command, Redis } from 'ioredis';
import type { CommitFence, ObjectKey, TrustedPut, WriteOp } from '../store.js';
import { FENCE_LUA } from './cluster-lua.js';
import { unexpectedReply } from './errors.js';
import { DUE_LUA, wakeMember } from './wakes.js';

/** The schema version this release reads and writes. */
export const SCHEMA_VERSION = '1';

/** The hash field holding an object's version: 0xFF is never part of UTF-8, so no entry key can collide with it. */
export const VERSION_FIELD = Buffer.from([0xff]);

/** The key names of one store, built from its prefix. */
export class KeyLayout {
  constructor(readonly prefix: string) {}

  /** The hash that records the schema version. */
  get meta(): string {
    return `${this.prefix}:meta`;
  }

  /** The hash of one object. */
  object(key: ObjectKey): string {
    return this.objectPrefix(key.clsId, key.partitionId) + key.objectId;
  }

  /** What the hash keys of one class and partition start with: the object id follows. */
  objectPrefix(clsId: string, partitionId: number): string {
    return `${this.prefix}:o:${slotTag(clsId, partitionId)}:`;
  }

  /** The sorted set of the object ids of one class and partition. */
  index(clsId: string, partitionId: number): string {
    return `${this.prefix}:i:${slotTag(clsId, partitionId)}`;
  }

  /** The sorted set of wake times (see `wakes.ts`). */
  get wakes(): string {
    return `${this.prefix}:wake`;
  }

  /**
   * The pub/sub channel of change events. Channels are server-wide, not per
   * database, so the database number is part of the name.
   */
  events(database: number): string {
    return `${this.prefix}:events:${String(database)}`;
  }

  /** The hash of cluster members (see `cluster-scripts.ts`). */
  get members(): string {
    return `${this.prefix}:cluster:members`;
  }

  /** The hash of slot owners and epochs. */
  get slots(): string {
    return `${this.prefix}:cluster:slots`;
  }
}

function slotTag(clsId: string, partitionId: number): string {
  const escaped = clsId.replace(/[%{}:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `{${escaped}:${String(partitionId)}}`;
}

/**
 * Applies a batch: checks the fence and every version first, writes only
 * when all hold.
 *
 * KEYS: for op i (1-based), KEYS[2i-1] is the object's hash and KEYS[2i] its
 * partition's index; a fenced batch adds the cluster members and slots
 * hashes after them; a batch that changes wake times ends with the wake set
 * (so it is there exactly when the count of KEYS is odd). ARGV[1] is the op
 * count, then the fence (member id, slot count, the (slot, epoch) pairs;
 * `''` and 0 for none), then per op: kind (`p` or `d`), expected version
 * (`''` to skip the check), object id, number of entries set, number
 * removed, the wake time (`''` leaves it, `-` clears it, else the new one),
 * the object's wake set member (`''` when the wake set is not touched), the
 * set pairs (field, value), the removed fields; last, the channel to publish
 * the batch's change event on (`''`: none) and the event's text without its
 * versions (see `change-feed.ts`).
 *
 * Replies `{0, v1, ..., vn}` with the new versions, `{1, i, actual, ...}`
 * naming every op whose expected version differs, or `{2, slot, epoch, ...}`
 * naming every fenced slot that does not hold, having written nothing.
 *
 * Redis does not roll a script back when a command in it fails, so every key
 * type is checked before the first write: the writes that follow cannot fail
 * on a wrong type, and an out-of-memory refusal comes at the first write,
 * before anything changed.
 */
const APPLY_LUA = `
local VERSION = '\\255'
local n = tonumber(ARGV[1])
${FENCE_LUA('KEYS[2 * n + 1]', 'KEYS[2 * n + 2]', '2')}
if fence_failed then return fence_failed end
local wakes = nil
if #KEYS % 2 == 1 then
  wakes = KEYS[#KEYS]
  local wakesType = redis.call('TYPE', wakes)['ok']
  if wakesType ~= 'none' and wakesType ~= 'zset' then return redis.error_reply('WRONGTYPE oaas: ' .. wakes .. ' is a ' .. wakesType .. ', not a wake set') end
end
local ops = {}
local conflicts = {1}
local indexes = {}
local pos = fence_end
for i = 1, n do
  local op = { kind = ARGV[pos], expected = ARGV[pos + 1], id = ARGV[pos + 2],
    nset = tonumber(ARGV[pos + 3]), nremove = tonumber(ARGV[pos + 4]), wake = ARGV[pos + 5], member = ARGV[pos + 6], at = pos + 7 }
  pos = op.at + 2 * op.nset + op.nremove
  ops[i] = op
  local key, index = KEYS[2 * i - 1], KEYS[2 * i]
  -- A batch usually writes one class and partition: each index's type is checked once.
  if not indexes[index] then
    local indexType = redis.call('TYPE', index)['ok']
    if indexType ~= 'none' and indexType ~= 'zset' then return redis.error_reply('WRONGTYPE oaas: ' .. index .. ' is a ' .. indexType .. ', not an index') end
    indexes[index] = true
  end
  -- HGET fails with WRONGTYPE on a key that is not a hash, before anything is written.
  local stored = redis.call('HGET', key, VERSION)
  if not stored and redis.call('EXISTS', key) == 1 then return redis.error_reply('ERR oaas: ' .. key .. ' has no version field') end
  local actual = tonumber(stored or '0')
  op.actual = actual
  if op.expected ~= '' and tonumber(op.expected) ~= actual then
    conflicts[#conflicts + 1] = i
    conflicts[#conflicts + 1] = actual
  end
end
if #conflicts > 1 then return conflicts end

-- unpack() is bounded by Lua's C stack, so long argument lists go in chunks.
local function chunked(command, key, from, count)
  local i = 0
  while i < count do
    local take = math.min(count - i, 500)
    local args = {}
    for j = 1, take do args[j] = ARGV[from + i + j - 1] end
    redis.call(command, key, unpack(args))
    i = i + take
  end
end

local versions = {0}
for i = 1, n do
  local op, key, index = ops[i], KEYS[2 * i - 1], KEYS[2 * i]
  if op.kind == 'd' then
    redis.call('DEL', key)
    redis.call('ZREM', index, op.id)
    if wakes then redis.call('ZREM', wakes, op.member) end
    versions[i + 1] = 0
  else
    local version = op.actual + 1
    -- The version and the first entry in one HSET: most commits change one field.
    if op.nset >= 1 then
      redis.call('HSET', key, VERSION, version, ARGV[op.at], ARGV[op.at + 1])
      chunked('HSET', key, op.at + 2, 2 * (op.nset - 1))
    else
      redis.call('HSET', key, VERSION, version)
    end
    chunked('HDEL', key, op.at + 2 * op.nset, op.nremove)
    versions[i + 1] = version
    -- An object that existed is in the index already.
    if op.actual == 0 then redis.call('ZADD', index, 0, op.id) end
    if op.wake == '-' then
      redis.call('ZREM', wakes, op.member)
    elseif op.wake ~= '' then
      redis.call('ZADD', wakes, op.wake, op.member)
    end
  end
end

-- The change event, published by the script that wrote the batch: the versions in front of what the client built.
local channel = ARGV[pos]
if channel and channel ~= '' then
  local written = {}
  for i = 1, n do
    if ops[i].kind == 'd' then
      written[i] = ops[i].actual > 0 and ops[i].actual + 1 or 0
    else
      written[i] = versions[i + 1]
    end
  end
  redis.call('PUBLISH', channel, table.concat(written, ',') .. '\\n' .. ARGV[pos + 1])
end
return versions
`;

/** A Lua script run by its SHA-1, falling back to sending its source when the server's script cache lacks it (after a restart, or on first use). */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script; argument lists go as arrays, never spread, so large
   * batches stay within call limits. `bytes` replies with Buffers, for
   * replies that hold binary strings.
   */
  async run(client: Redis, keys: readonly string[], args: readonly (string | Buffer)[], replies: 'text' | 'bytes' = 'text'): Promise<unknown> {
    // One array, filled in place: a batch of 10k objects has some 50k arguments, which spreading would copy twice.
    const all = new Array<string | Buffer>(2 + keys.length + args.length);
    all[0] = this.sha;
    all[1] = String(keys.length);
    for (let i = 0; i < keys.length; i++) all[2 + i] = keys[i]!;
    let text = true;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (typeof arg !== 'string') text = false;
      all[2 + keys.length + i] = arg;
    }
    try {
      return await send(client, 'EVALSHA', all, text, replies);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      all[0] = this.source;
      return send(client, 'EVAL', all, text, replies);
    }
  }
}

let loadedDriver: { readonly Redis: typeof Redis; readonly Command: typeof Command } | undefined;

/** The ioredis the store loaded, whose command class {@link send} builds commands with. */
export function driverLoaded(driver: { readonly Redis: typeof Redis; readonly Command: typeof Command }): void {
  loadedDriver = driver;
}

/**
 * Sends one command. ioredis's `call` flattens its argument list one element
 * at a time, which for the 50k arguments of a batch of 10k objects costs
 * about as much as encoding them; an argument list of strings alone, on a
 * client that adds no key prefix, is handed to the command as it is. That
 * takes ioredis's own command class, known once the store has loaded ioredis
 * (an optional dependency), and a client of that same copy of it.
 */
function send(client: Redis, name: string, args: (string | Buffer)[], text: boolean, replies: 'text' | 'bytes'): Promise<unknown> {
  const driver = loadedDriver;
  if (!text || driver === undefined || !(client instanceof driver.Redis) || (client.options.keyPrefix ?? '') !== '') {
    return replies === 'text' ? client.call(name, args) : client.callBuffer(name, args);
  }
  const command = new driver.Command(name, [], { replyEncoding: replies === 'text' ? 'utf8' : null });
  command.args = args;
  return client.sendCommand(command) as Promise<unknown>;
}

/** The batch script. */
export const applyScript = new LuaScript(APPLY_LUA);

/** The script of `due` (see `wakes.ts`). */
export const dueScript = new LuaScript(DUE_LUA);

/** The KEYS and ARGV of {@link applyScript} for a batch. */
export function applyArguments(
  layout: KeyLayout,
  ops: readonly WriteOp[],
  fence?: CommitFence,
  event?: { readonly channel: string; readonly head: string },
  trusted = false,
): { keys: string[]; args: (string | Buffer)[] } {
  const keys: string[] = [];
  const args: (string | Buffer)[] = [String(ops.length)];
  args.push(fence?.memberId ?? '', String(fence?.slots.length ?? 0));
  for (const { slot, epoch } of fence?.slots ?? []) args.push(String(slot), String(epoch));
  // The wake set is named only when needed: under Redis Cluster it is in a slot of its own.
  const touchesWakes = ops.some((op) => op.kind === 'delete' || op.wakeAt !== undefined);
  // Batches are mostly of one class and partition: its index key is built once.
  let lastCls: string | undefined;
  let lastPartition = -1;
  let lastIndex = '';
  for (const op of ops) {
    if (op.key.clsId !== lastCls || op.key.partitionId !== lastPartition) {
      lastCls = op.key.clsId;
      lastPartition = op.key.partitionId;
      lastIndex = layout.index(lastCls, lastPartition);
    }
    const hash = layout.object(op.key);
    keys.push(hash, lastIndex);
    const expected = op.expectedVersion === undefined ? '' : String(op.expectedVersion);
    const wake = op.kind === 'delete' || op.wakeAt === undefined ? '' : op.wakeAt === null ? '-' : String(op.wakeAt);
    const member = touchesWakes && (op.kind === 'delete' || wake !== '') ? wakeMember(op.key, hash) : '';
    if (op.kind === 'delete') {
      args.push('d', expected, op.key.objectId, '0', '0', wake, member);
      continue;
    }
    const remove = op.remove ?? [];
    const put = trusted ? (op as TrustedPut) : undefined;
    if (put?.appendSetTexts !== undefined) {
      // The SDK's own puts: entries as the JSON text they are, which ioredis sends as UTF-8, with no copy of bytes.
      const counted = args.push('p', expected, op.key.objectId, '0', String(remove.length), wake, member) - 4;
      args[counted] = String(put.appendSetTexts(args));
    } else {
      const set = op.set ?? new Map<string, Uint8Array>();
      args.push('p', expected, op.key.objectId, String(set.size), String(remove.length), wake, member);
      // Buffer.from copies: ioredis would otherwise send a caller-owned Uint8Array as text, and the copy
      // keeps the bytes fixed even if the caller reuses its buffer before the socket drains.
      for (const [entryKey, value] of set) args.push(entryKey, Buffer.from(value));
    }
    args.push(...remove);
  }
  args.push(event?.channel ?? '', event?.head ?? '');
  if (fence !== undefined) keys.push(layout.members, layout.slots);
  if (touchesWakes) keys.push(layout.wakes);
  return { keys, args };
}

/** What {@link applyScript} replied: the new versions, the conflicts as (op index, actual version) pairs, or the fenced slots that do not hold. */
export type ApplyReply =
  | { readonly ok: true; readonly versions: number[] }
  | { readonly ok: false; readonly conflicts: { index: number; actual: number }[] }
  | { readonly ok: false; readonly fenced: { slot: number; epoch: number }[] };

/** Reads the script's reply; anything else is a bug or a foreign script, so it throws. */
export function parseApplyReply(reply: unknown, opCount: number): ApplyReply {
  if (!Array.isArray(reply) || !reply.every((item) => typeof item === 'number')) throw unexpectedReply(`apply script reply: ${String(reply)}`);
  const [status, ...rest] = reply;
  if (status === 0 && rest.length === opCount) return { ok: true, versions: rest };
  if (status === 1 && rest.length > 0 && rest.length % 2 === 0) {
    const conflicts: { index: number; actual: number }[] = [];
    for (let i = 0; i < rest.length; i += 2) conflicts.push({ index: (rest[i] ?? 1) - 1, actual: rest[i + 1] ?? 0 });
    return { ok: false, conflicts };
  }
  if (status === 2 && rest.length > 0 && rest.length % 2 === 0) {
    const fenced: { slot: number; epoch: number }[] = [];
    for (let i = 0; i < rest.length; i += 2) fenced.push({ slot: rest[i] ?? 0, epoch: rest[i + 1] ?? 0 });
    return { ok: false, fenced };
  }
  throw unexpectedReply(`apply script reply: [${reply.join(', ')}]`);
}
