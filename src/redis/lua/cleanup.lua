-- SPDX-License-Identifier: MIT
-- Removes what dead instances left behind (run by one survivor under a lock).
-- KEYS[1] instances zset  KEYS[2] ingest list
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
return removed
