/**
 * The script of the SDK's usual batch: version-checked puts in one class and
 * partition that set entries and touch neither removed entries, nor wake
 * times, nor a fence. It writes what `APPLY_LUA` (`scripts.ts`) would write
 * for the same batch, with the same reply, from less: one key per object plus
 * the partition's index once, and per object only its expected version, the
 * number of entries and the entries. The object id a new object adds to the
 * index is read from the end of its hash key. For 10k objects that is about
 * half the arguments, which ioredis encodes and Redis turns into Lua strings
 * one by one. Every other batch goes through `APPLY_LUA`.
 */
import type { TrustedPut, WriteOp } from '../store.js';
import { LuaScript, type KeyLayout } from './scripts.js';

/**
 * KEYS: the n objects' hashes, then their partition's index. ARGV[1] is n,
 * ARGV[2] the byte length of the hashes' common prefix (the object id
 * follows it), then per object: expected version, number of entries set,
 * the (field, value) pairs; last, the channel to publish the change event on
 * (`''`: none) and the event's text without its versions.
 */
const PUTS_LUA = `
local VERSION = '\\255'
local n = tonumber(ARGV[1])
local id_from = tonumber(ARGV[2]) + 1
local index = KEYS[n + 1]
local indexType = redis.call('TYPE', index)['ok']
if indexType ~= 'none' and indexType ~= 'zset' then return redis.error_reply('WRONGTYPE oaas: ' .. index .. ' is a ' .. indexType .. ', not an index') end
local actual = {}
local conflicts = {1}
local pos = 3
for i = 1, n do
  local key = KEYS[i]
  -- HGET fails with WRONGTYPE on a key that is not a hash, before anything is written.
  local stored = redis.call('HGET', key, VERSION)
  if not stored and redis.call('EXISTS', key) == 1 then return redis.error_reply('ERR oaas: ' .. key .. ' has no version field') end
  local v = tonumber(stored or '0')
  actual[i] = v
  if tonumber(ARGV[pos]) ~= v then
    conflicts[#conflicts + 1] = i
    conflicts[#conflicts + 1] = v
  end
  pos = pos + 2 + 2 * tonumber(ARGV[pos + 1])
end
if #conflicts > 1 then return conflicts end

local versions = {0}
pos = 3
for i = 1, n do
  local key, nset, version = KEYS[i], tonumber(ARGV[pos + 1]), actual[i] + 1
  if nset >= 1 then
    redis.call('HSET', key, VERSION, version, ARGV[pos + 2], ARGV[pos + 3])
    -- unpack() is bounded by Lua's C stack, so long argument lists go in chunks.
    local j = 1
    while j < nset do
      local take = math.min(nset - j, 250)
      local args = {}
      for k = 1, 2 * take do args[k] = ARGV[pos + 2 + 2 * j + k - 1] end
      redis.call('HSET', key, unpack(args))
      j = j + take
    end
  else
    redis.call('HSET', key, VERSION, version)
  end
  if actual[i] == 0 then redis.call('ZADD', index, 0, string.sub(key, id_from)) end
  versions[i + 1] = version
  pos = pos + 2 + 2 * nset
end

local channel = ARGV[pos]
if channel ~= '' then
  redis.call('PUBLISH', channel, table.concat(versions, ',', 2) .. '\\n' .. ARGV[pos + 1])
end
return versions
`;

/** The script of {@link putsArguments}' batches. */
export const putsScript = new LuaScript(PUTS_LUA);

/**
 * The KEYS and ARGV of {@link putsScript} for `ops`, or `undefined` when the
 * batch is not one it writes (then `applyArguments` builds the general one).
 * Only for the SDK's own batches, whose puts carry their entries as text.
 */
export function putsArguments(
  layout: KeyLayout,
  ops: readonly WriteOp[],
  event: { readonly channel: string; readonly head: string },
): { keys: string[]; args: string[] } | undefined {
  const first = ops[0];
  if (first === undefined) return undefined;
  const { clsId, partitionId } = first.key;
  const prefix = layout.objectPrefix(clsId, partitionId);
  const keys = new Array<string>(ops.length + 1);
  const args: string[] = [String(ops.length), String(Buffer.byteLength(prefix))];
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.kind !== 'put' || op.expectedVersion === undefined || op.wakeAt !== undefined || op.key.clsId !== clsId || op.key.partitionId !== partitionId) return undefined;
    const put = op as TrustedPut;
    if (put.appendSetTexts === undefined || (op.remove !== undefined && op.remove.length > 0)) return undefined;
    keys[i] = prefix + op.key.objectId;
    const counted = args.push(String(op.expectedVersion), '0') - 1;
    args[counted] = String(put.appendSetTexts(args));
  }
  keys[ops.length] = layout.index(clsId, partitionId);
  args.push(event.channel, event.head);
  return { keys, args };
}
