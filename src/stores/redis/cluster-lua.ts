/**
 * The Lua the cluster scripts share with the apply script: the server
 * clock, member and slot lookups, and the fence check (see
 * `cluster-scripts.ts` for the layout they read).
 */

/**
 * Helpers every cluster script starts with. `KEYS_MEMBERS` and `KEYS_SLOTS`
 * are set by the script to its key positions.
 */
export const PRELUDE = `
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function member(id)
  local raw = redis.call('HGET', KEYS_MEMBERS, id)
  if not raw then return nil end
  return cjson.decode(raw)
end
local function current(m, incarnation)
  return m ~= nil and m.active and m.incarnation == incarnation
end
local function slot_of(n)
  local raw = redis.call('HGET', KEYS_SLOTS, tostring(n))
  if not raw then return nil end
  return cjson.decode(raw)
end
-- The slot's owner is current and its lease has not lapsed at now.
local function owned(s, now)
  if s == nil or s.owner == nil then return false end
  local m = member(s.owner)
  return current(m, s.incarnation) and m.expires > now
end
`;

/**
 * The fence check of the apply script: ARGV from `at` holds the member id,
 * the slot count and the (slot, epoch) pairs. Sets `fence_failed`, a reply
 * `{2, slot, epoch, ...}` naming the slots that do not hold (nil when all
 * do), and `fence_end`, the next ARGV position.
 */
export const FENCE_LUA = (membersKey: string, slotsKey: string, at: string): string => `
local KEYS_MEMBERS, KEYS_SLOTS = ${membersKey}, ${slotsKey}
${PRELUDE}
local fence_failed = nil
local fence_member = ARGV[${at}]
local fence_count = tonumber(ARGV[${at} + 1])
local fence_end = ${at} + 2 + 2 * fence_count
if fence_count > 0 then
  local now = clock()
  local failed = {2}
  for i = 0, fence_count - 1 do
    local n, epoch = tonumber(ARGV[${at} + 2 + 2 * i]), tonumber(ARGV[${at} + 3 + 2 * i])
    local s = slot_of(n)
    if not (owned(s, now) and s.owner == fence_member and s.epoch == epoch) then
      failed[#failed + 1] = n
      failed[#failed + 1] = epoch
    end
  end
  if #failed > 1 then fence_failed = failed end
end
`;
