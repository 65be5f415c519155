-- SPDX-License-Identifier: MIT
-- One instance heartbeat. KEYS[1] alive key  KEYS[2] instances zset  KEYS[3] users hash
-- KEYS[4] conns hash  ARGV[1] instance id  ARGV[2] instance TTL in ms
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
-- The hashes outlive a crash only until a survivor cleans up, or 3 TTLs at most.
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[2]) * 3)
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[2]) * 3)
return 1
