-- SPDX-License-Identifier: MIT
-- Moves a Redis written by a version before issue #13 (one global stream "stream",
-- "stream:trimmed", one "events" channel) to per-topic history: a clean start of the
-- history that keeps ids increasing and never answers wrongly (docs/redis.md §Upgrading).
-- KEYS[1] layout key  KEYS[2] old global stream  KEYS[3] old trimmed key  KEYS[4] last-id
-- KEYS[5] origin key
-- ARGV[1] this layout's version
-- Returns 0 when nothing was to be done, 1 when the old history was dropped.
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
local old = redis.call('EXISTS', KEYS[2], KEYS[3])
if old > 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  -- The old events are gone: every id before the newest one gets history-lost (replay.lua:
  -- an id below the origin), the newest one (a client that saw everything) does not.
  local last = redis.pcall('GET', KEYS[4])
  if type(last) == 'string' then
    redis.call('SET', KEYS[5], last)
  else
    redis.call('DEL', KEYS[5])
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return old > 0 and 1 or 0
