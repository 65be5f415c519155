-- SPDX-License-Identifier: MIT
-- Retained events after an id, and whether some newer event is gone (SPEC §Resume).
-- KEYS[1] stream  KEYS[2] origin key  KEYS[3] trimmed key (newest id trimmed away)
-- ARGV[1] after ("<ms>-<seq>")  ARGV[2] COUNT bound
-- Returns {lost (0|1), XRANGE entries}.
local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)%-(%d+)$')
  if not ms then return 0, 0 end
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

local after = ARGV[1]
local origin = redis.call('GET', KEYS[2])
if not origin or redis.call('EXISTS', KEYS[1]) == 0 then
  -- No stream (never published, or Redis lost its data): any id is unknown here.
  return {less('0-0', after) and 1 or 0, {}}
end
local lost = 0
if less(after, origin) then lost = 1 end -- from before this stream incarnation
local trimmed = redis.call('GET', KEYS[3])
if trimmed and less(after, trimmed) then lost = 1 end -- an event after it was trimmed
local ok, entries = pcall(redis.call, 'XRANGE', KEYS[1], '(' .. after, '+', 'COUNT', ARGV[2])
if not ok then entries = {} end
return {lost, entries}
