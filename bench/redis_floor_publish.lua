-- SPDX-License-Identifier: MIT
-- Benchmark floor, never deployed (bench/redis_floor.sh builds it in place of publish.lua):
-- the least a redis-mode publish can ask of Redis. Same arguments and reply shape as
-- src/redis/lua/publish.lua, but it stores nothing, keeps no history and trims nothing:
-- one TIME per call and one PUBLISH per event and topic. What a hub that relays through
-- Redis without keeping anything would pay; docs/performance.md reads ssecast's figures
-- against it.
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local us = tonumber(t[2]) * 1000 -- ids stay increasing across calls within one ms
local prefix = ARGV[1]
local ids, pos, seq = {}, 9, 0
for r = 1, tonumber(ARGV[8] or '0') do
  local rids = {}
  local n = tonumber(ARGV[pos])
  pos = pos + 1
  for e = 1, n do
    local k = tonumber(ARGV[pos])
    local payload = ARGV[pos + k + 1]
    seq = seq + 1
    local id = string.format('%d-%d', ms, us + seq)
    for i = 1, k do
      redis.call('PUBLISH', prefix .. 'events:' .. ARGV[pos + i], id .. ' ' .. payload)
    end
    rids[e] = id
    pos = pos + k + 2
  end
  ids[r] = rids
end
return {ids, {}}
