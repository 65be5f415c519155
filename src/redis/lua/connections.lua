-- SPDX-License-Identifier: MIT
-- The open streams of one user on every live instance (the admin's connection lookup).
-- KEYS[1] instances zset  ARGV[1] key prefix  ARGV[2] user id  ARGV[3] limit
-- Returns {record id, record JSON, ...}. One pass over every record: admin use only.
local all = redis.call('ZRANGE', KEYS[1], 0, -1)
local limit = tonumber(ARGV[3])
local out = {}
for _, id in ipairs(all) do
  local base = ARGV[1] .. 'instance:' .. id
  if redis.call('EXISTS', base .. ':alive') == 1 then
    local conns = redis.call('HGETALL', base .. ':conns')
    for i = 1, #conns, 2 do
      local ok, rec = pcall(cjson.decode, conns[i + 1])
      if ok and type(rec) == 'table' and rec.user == ARGV[2] then
        out[#out + 1] = conns[i]
        out[#out + 1] = conns[i + 1]
        if #out >= 2 * limit then
          return out
        end
      end
    end
  end
end
return out
