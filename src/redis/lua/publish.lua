-- SPDX-License-Identifier: MIT
-- Stores and fans out one batch of events atomically (SPEC §Publish, docs/redis.md).
-- KEYS[1] stream  KEYS[2] last-id key  KEYS[3] origin key  KEYS[4] this instance's ingest
--         processing list  KEYS[5] trimmed key (newest id ever trimmed away)
-- ARGV[1] events channel  ARGV[2] history.max_events  ARGV[3] history.max_age in ms
-- ARGV[4] the caller's id floor ("<ms>-<seq>": the newest id it has seen)
-- ARGV[5] ingest item to consume ("" = none)  ARGV[6..] one event JSON each
-- Returns the assigned ids, oldest first; {} when the ingest item was already consumed.
local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)%-(%d+)$')
  if not ms then return 0, 0 end
  return tonumber(ms), tonumber(seq)
end
local function raise(bm, bs, id)
  local m, s = parse(id)
  if m > bm or (m == bm and s > bs) then return m, s end
  return bm, bs
end

if ARGV[5] ~= '' and redis.call('LREM', KEYS[4], 1, ARGV[5]) == 0 then
  return {} -- requeued or published by someone else: never publish it twice
end
if #ARGV < 6 then return {} end

-- Ids never go back: above the stream's last id, the stored last id and the caller's floor
-- (the floor survives Redis losing its data).
local bm, bs = parse(ARGV[4])
bm, bs = raise(bm, bs, redis.call('GET', KEYS[2]))
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #newest > 0 then bm, bs = raise(bm, bs, newest[1][1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- Replay needs to know exactly what was trimmed (Redis 7.0 does not record it for MAXLEN
-- or MINID trimming): remember the newest id that leaves the stream.
local maxlen = tonumber(ARGV[2])
local trimmed = nil
local ids = {}
for i = 6, #ARGV do
  if now > bm then bm, bs = now, 0 else bs = bs + 1 end
  local id = string.format('%d-%d', bm, bs)
  local excess = redis.call('XLEN', KEYS[1]) + 1 - maxlen
  if excess > 0 then
    local old = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
    if #old > 0 then trimmed = old[#old][1] end
  end
  redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, id, 'e', ARGV[i])
  redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[i])
  ids[#ids + 1] = id
end
redis.call('SET', KEYS[2], ids[#ids])
redis.call('SET', KEYS[3], ids[1], 'NX') -- first id of this stream incarnation
local cutoff = now - tonumber(ARGV[3])
if cutoff > 0 then
  local min = string.format('%d-0', cutoff)
  local expired = redis.call('XREVRANGE', KEYS[1], '(' .. min, '-', 'COUNT', 1)
  if #expired > 0 then
    trimmed = expired[1][1] -- newer than anything MAXLEN removed above
    redis.call('XTRIM', KEYS[1], 'MINID', min)
  end
end
if trimmed then redis.call('SET', KEYS[5], trimmed) end
return ids
