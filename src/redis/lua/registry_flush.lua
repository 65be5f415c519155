-- SPDX-License-Identifier: MIT
-- Writes this instance's per-user connection counts.
-- KEYS[1] users hash  ARGV[1] "full" (replace) or "delta" (add)  ARGV[2] TTL in ms
-- ARGV[3..] user, count pairs
local full = ARGV[1] == 'full'
if full then redis.call('DEL', KEYS[1]) end
for i = 3, #ARGV, 2 do
  if full then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  elseif redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) <= 0 then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
