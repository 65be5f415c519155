-- SPDX-License-Identifier: MIT
-- The global registry view in one round trip.
-- KEYS[1] instances zset  ARGV[1] key prefix
-- Returns {{instance id, ms since its heartbeat, {user, count, ...}}, ...} for live ones.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local out = {}
for i = 1, #all, 2 do
  local base = ARGV[1] .. 'instance:' .. all[i]
  if redis.call('EXISTS', base .. ':alive') == 1 then
    out[#out + 1] = {all[i], now - tonumber(all[i + 1]), redis.call('HGETALL', base .. ':users')}
  end
end
return out
