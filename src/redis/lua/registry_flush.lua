-- SPDX-License-Identifier: MIT
-- Writes this instance's per-user connection counts and connection records.
-- KEYS[1] users hash  KEYS[2] conns hash
-- ARGV[1] "full" (replace both) or "delta" (apply changes)  ARGV[2] TTL in ms
-- ARGV[3] number of user, count pairs (U)  ARGV[4] number of id, record pairs to set (C)
-- then U user, count pairs (full: the count; delta: the change), C id, record pairs,
-- and the rest: ids to remove (delta only).
local full = ARGV[1] == 'full'
if full then redis.call('DEL', KEYS[1], KEYS[2]) end
local i = 5
for _ = 1, tonumber(ARGV[3]) do
  if full then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
  i = i + 2
end
for _ = 1, tonumber(ARGV[4]) do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for j = i, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[j])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
