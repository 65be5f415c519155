-- SPDX-License-Identifier: MIT
-- A draining instance removes itself. KEYS[1] users hash  KEYS[2] alive key
-- KEYS[3] instances zset  KEYS[4] its ingest processing list  KEYS[5] ingest list
-- KEYS[6] conns hash  ARGV[1] instance id
redis.call('DEL', KEYS[1], KEYS[2], KEYS[6])
redis.call('ZREM', KEYS[3], ARGV[1])
while redis.call('LMOVE', KEYS[4], KEYS[5], 'RIGHT', 'LEFT') do end
return 1
