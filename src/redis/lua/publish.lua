-- SPDX-License-Identifier: MIT
-- Stores and fans out one batch of events atomically (SPEC §Publish, docs/redis.md).
-- KEYS[1] stream  KEYS[2] last-id key  KEYS[3] origin key  KEYS[4] this instance's ingest
--         processing list  KEYS[5] trimmed key (newest id ever trimmed away)
-- ARGV[1] events channel  ARGV[2] history.max_events  ARGV[3] history.max_age in ms
-- ARGV[4] the caller's id floor ("<ms>-<seq>": the newest id it has seen, bounded by it)
-- ARGV[5] ingest item to consume ("" = none)  ARGV[6] how far ahead of TIME a stored id may
--         be, in ms  ARGV[7..] one event JSON each (none: a check that writes nothing)
-- Returns {ids, ignored}: the assigned ids, oldest first ({} for a check, or when the ingest
-- item was already consumed), and the ids that were ignored as malformed or too far ahead
-- (the caller's floor, the last-id key's value). An error reply, with nothing written, when the stream cannot take an event.
--
-- Redis does not roll a script back: everything that can fail is checked before the first
-- write, the XADD, and the ingest item is removed last, once its events are stored.
local kMaxSeq = 9007199254740991 -- 2^53 - 1: Lua numbers are doubles, exact up to here
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local horizon = now + tonumber(ARGV[6])

-- ms, seq of a well-formed id; nil for anything else. `bounded`: also nil when the id is
-- past the horizon (ids stored in Redis, which anyone with access to it can write).
local function parse(id, bounded)
  if type(id) ~= 'string' then return nil end
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  if not ms or #ms > 16 or #seq > 16 then return nil end
  ms, seq = tonumber(ms), tonumber(seq)
  if ms > kMaxSeq or seq > kMaxSeq or (bounded and ms > horizon) then return nil end
  return ms, seq
end
local function raise(bm, bs, m, s)
  if m > bm or (m == bm and s > bs) then return m, s end
  return bm, bs
end

-- Ids never go back: above the stream's last id, the stored last id and the caller's floor
-- (the floor survives Redis losing its data).
local ignored = {}
local bm, bs = parse(ARGV[4], false)
if not bm then
  bm, bs = 0, 0
  if ARGV[4] ~= '' then ignored[#ignored + 1] = ARGV[4] end
end
local last = redis.pcall('GET', KEYS[2]) -- a table on WRONGTYPE: ignored, then overwritten
if last then
  local m, s = parse(last, true)
  if m then
    bm, bs = raise(bm, bs, m, s)
  else
    ignored[#ignored + 1] = type(last) == 'string' and last or '(not a string)'
  end
end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and kind ~= 'stream' then
  return redis.error_reply('SSECAST_STREAM ' .. KEYS[1] .. ' is a ' .. kind ..
    ', not a stream; nothing was published (delete the key)')
end
local oldest = nil -- id of the stream's first entry (XINFO has it at no cost)
if kind == 'stream' then
  -- XADD needs an id above the last one ever generated (kept even when entries are gone).
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  local top = nil
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then top = info[i + 1] end
    if info[i] == 'first-entry' and info[i + 1] then oldest = info[i + 1][1] end
  end
  local m, s = parse(top, true)
  if not m then
    return redis.error_reply('SSECAST_STREAM the last id of ' .. KEYS[1] .. ' (' ..
      tostring(top) .. ') is malformed or more than ' .. ARGV[6] ..
      ' ms ahead of Redis TIME; nothing was published (delete the stream)')
  end
  bm, bs = raise(bm, bs, m, s)
end
if ARGV[5] ~= '' and not redis.call('LPOS', KEYS[4], ARGV[5]) then
  return {{}, ignored} -- requeued or published by someone else: never publish it twice
end
if #ARGV < 7 then return {{}, ignored} end

-- Replay needs to know exactly what was trimmed (Redis 7.0 does not record it for MAXLEN
-- or MINID trimming): remember the newest id that leaves the stream.
local maxlen = tonumber(ARGV[2])
local trimmed = nil
local ids = {}
for i = 7, #ARGV do
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
-- Only look for expired entries when the oldest one is expired: a reverse range search
-- that finds nothing costs a walk over stream nodes on every publish (issue #13), and
-- MAXLEN trimming above only ever makes the oldest entry newer.
local oldest_ms = parse(oldest)
if cutoff > 0 and oldest and (not oldest_ms or oldest_ms < cutoff) then
  local min = string.format('%d-0', cutoff)
  local expired = redis.call('XREVRANGE', KEYS[1], '(' .. min, '-', 'COUNT', 1)
  if #expired > 0 then
    trimmed = expired[1][1] -- newer than anything MAXLEN removed above
    redis.call('XTRIM', KEYS[1], 'MINID', min)
  end
end
if trimmed then redis.call('SET', KEYS[5], trimmed) end
if ARGV[5] ~= '' then redis.call('LREM', KEYS[4], 1, ARGV[5]) end
return {ids, ignored}
