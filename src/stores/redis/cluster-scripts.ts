/**
 * Cluster membership in Redis: its two keys and the Lua scripts over them.
 *
 * Layout, under the store's key prefix:
 * - `<prefix>:cluster:members`: a hash, member id -> JSON
 *   `{ url, incarnation, active, expires }`. Fields stay after a member
 *   leaves, so its next incarnation counts on from the last.
 * - `<prefix>:cluster:slots`: a hash, slot number -> JSON
 *   `{ owner?, incarnation?, epoch }`; `owner` is absent once released,
 *   `epoch` only grows.
 * - `cluster_schema_version` in `<prefix>:meta`.
 *
 * As in PostgreSQL, a slot is owned while its owner's member entry is
 * active, of the same incarnation and unexpired: one lease per member. Each
 * operation is one script, which Redis runs without interleaving any other
 * command; `expires` is milliseconds by the server's clock (`TIME`), never a
 * process's. These keys carry no hash tag, so under Redis Cluster a fenced
 * batch spans slots and fails with `CROSSSLOT`: cluster mode needs a single
 * server or a primary with replicas.
 */
import { PRELUDE } from './cluster-lua.js';
import { LuaScript } from './scripts.js';

/** The version of this layout, kept in the meta hash beside the object layout's. */
export const CLUSTER_SCHEMA_VERSION = '1';

const script = (body: string): LuaScript => new LuaScript(`local KEYS_MEMBERS, KEYS_SLOTS = KEYS[1], KEYS[2]\n${PRELUDE}\n${body}`);

/** The slots `id` (of `incarnation`) owns, as a flat list slot, epoch, ..., sorted. */
const OWNED_BY = `
local function owned_by(id, incarnation)
  local found = {}
  local all = redis.call('HGETALL', KEYS_SLOTS)
  for i = 1, #all, 2 do
    local s = cjson.decode(all[i + 1])
    if s.owner == id and s.incarnation == incarnation then found[#found + 1] = { tonumber(all[i]), s.epoch } end
  end
  table.sort(found, function(a, b) return a[1] < b[1] end)
  return found
end
`;

/** Every membership script; KEYS are always (members, slots). */
export const CLUSTER_SCRIPTS = {
  /** ARGV: id, url, lease. Replies the new incarnation. */
  join: script(`
local now = clock()
local m = member(ARGV[1])
local incarnation = 1
if m ~= nil then incarnation = m.incarnation + 1 end
redis.call('HSET', KEYS_MEMBERS, ARGV[1], cjson.encode({ url = ARGV[2], incarnation = incarnation, active = true, expires = now + tonumber(ARGV[3]) }))
return incarnation
`),
  /** ARGV: id, incarnation, lease. Replies nil when not current, else {expires, slot, epoch, ...}. */
  heartbeat: script(`${OWNED_BY}
local now = clock()
local incarnation = tonumber(ARGV[2])
local m = member(ARGV[1])
if not current(m, incarnation) then return false end
m.expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS_MEMBERS, ARGV[1], cjson.encode(m))
local reply = { m.expires }
for _, s in ipairs(owned_by(ARGV[1], incarnation)) do reply[#reply + 1] = s[1]; reply[#reply + 1] = s[2] end
return reply
`),
  /** ARGV: id, incarnation, lease, slot... Replies nil when not current, else {expires, slot, epoch, ...}. */
  acquire: script(`
local now = clock()
local id, incarnation = ARGV[1], tonumber(ARGV[2])
local m = member(id)
if not current(m, incarnation) then return false end
m.expires = now + tonumber(ARGV[3])
redis.call('HSET', KEYS_MEMBERS, id, cjson.encode(m))
local wanted = {}
for i = 4, #ARGV do wanted[#wanted + 1] = tonumber(ARGV[i]) end
table.sort(wanted)
local reply = { m.expires }
for _, n in ipairs(wanted) do
  local s = slot_of(n)
  local mine = s ~= nil and s.owner == id and s.incarnation == incarnation
  if not mine and not owned(s, now) then
    s = { owner = id, incarnation = incarnation, epoch = (s == nil and 0 or s.epoch) + 1 }
    redis.call('HSET', KEYS_SLOTS, tostring(n), cjson.encode(s))
    mine = true
  end
  if mine then reply[#reply + 1] = n; reply[#reply + 1] = s.epoch end
end
return reply
`),
  /** ARGV: id, incarnation, slot... Replies the released slots, sorted. */
  release: script(`
local id, incarnation = ARGV[1], tonumber(ARGV[2])
local released = {}
for i = 3, #ARGV do
  local n = tonumber(ARGV[i])
  local s = slot_of(n)
  if s ~= nil and s.owner == id and s.incarnation == incarnation then
    redis.call('HSET', KEYS_SLOTS, tostring(n), cjson.encode({ epoch = s.epoch }))
    released[#released + 1] = n
  end
end
table.sort(released)
return released
`),
  /** ARGV: id, incarnation. Ends the incarnation if current, frees its slots. */
  leave: script(`${OWNED_BY}
local now = clock()
local id, incarnation = ARGV[1], tonumber(ARGV[2])
local m = member(id)
if current(m, incarnation) then
  m.active = false
  m.expires = math.min(m.expires, now)
  redis.call('HSET', KEYS_MEMBERS, id, cjson.encode(m))
end
for _, s in ipairs(owned_by(id, incarnation)) do redis.call('HSET', KEYS_SLOTS, tostring(s[1]), cjson.encode({ epoch = s[2] })) end
return 1
`),
  /** Replies {id, url, incarnation, expires, ...} for every live member, sorted by id. */
  members: script(`
local now = clock()
local live = {}
local all = redis.call('HGETALL', KEYS_MEMBERS)
for i = 1, #all, 2 do
  local m = cjson.decode(all[i + 1])
  if m.active and m.expires > now then live[#live + 1] = { all[i], m } end
end
table.sort(live, function(a, b) return a[1] < b[1] end)
local reply = {}
for _, e in ipairs(live) do
  reply[#reply + 1] = e[1]; reply[#reply + 1] = e[2].url; reply[#reply + 1] = e[2].incarnation; reply[#reply + 1] = e[2].expires
end
return reply
`),
  /** Replies {slot, owner, url, incarnation, epoch, expires, ...} for every slot with a live owner, sorted by slot. */
  owners: script(`
local now = clock()
local found = {}
local all = redis.call('HGETALL', KEYS_SLOTS)
for i = 1, #all, 2 do
  local s = cjson.decode(all[i + 1])
  if owned(s, now) then found[#found + 1] = { tonumber(all[i]), s } end
end
table.sort(found, function(a, b) return a[1] < b[1] end)
local reply = {}
for _, e in ipairs(found) do
  local m = member(e[2].owner)
  for _, v in ipairs({ e[1], e[2].owner, m.url, m.incarnation, e[2].epoch, m.expires }) do reply[#reply + 1] = v end
end
return reply
`),
} as const;
