-- SPDX-License-Identifier: MIT
-- Removes what dead instances left behind, and topics whose history expired from the topic
-- index (run by one survivor under a lock, every heartbeat).
-- KEYS[1] instances zset  KEYS[2] ingest list  KEYS[3] topic index (publish.lua)
-- KEYS[4] topic sizes  KEYS[5] entries retained, in all (publish.lua)
-- ARGV[1] key prefix  ARGV[2] instance TTL in ms  ARGV[3] max instances per run
-- Returns the ids removed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]),
                       'LIMIT', 0, ARGV[3])
local removed = {}
for _, id in ipairs(ids) do
  local base = ARGV[1] .. 'instance:' .. id
  if redis.call('EXISTS', base .. ':alive') == 0 then
    redis.call('DEL', base .. ':users', base .. ':conns')
    -- Ingest items it popped but never published go back to the head, in order.
    local proc = ARGV[1] .. 'ingest:processing:' .. id
    while redis.call('LMOVE', proc, KEYS[2], 'RIGHT', 'LEFT') do end
    redis.call('ZREM', KEYS[1], id)
    removed[#removed + 1] = id
  end
end
-- A random sample per run keeps this O(1) and still empties the index of dead topics over
-- time; replay.lua treats a listed topic without a meta record as having no history.
local sample = redis.call('ZRANDMEMBER', KEYS[3], 64)
for _, name in ipairs(sample) do
  if redis.call('EXISTS', ARGV[1] .. 'topic-meta:' .. name) == 0 then
    redis.call('ZREM', KEYS[3], name)
  end
  -- A stream that expired with its key no longer holds what its size says.
  local counted = tonumber(redis.call('ZSCORE', KEYS[4], name) or '0')
  local real = redis.call('XLEN', ARGV[1] .. 'topic:' .. name)
  if counted ~= real then
    if real == 0 then redis.call('ZREM', KEYS[4], name) else redis.call('ZADD', KEYS[4], real, name) end
    redis.call('INCRBY', KEYS[5], real - counted)
  end
end
return removed
