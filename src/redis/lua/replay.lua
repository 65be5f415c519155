-- SPDX-License-Identifier: MIT
-- One page of the retained events after an id, and whether some newer event is gone
-- (SPEC §Resume). Paged and pre-filtered by topic so that one resume reads at most ARGV[2]
-- entries and returns at most ARGV[3] bytes per call (#12: resume amplification).
-- KEYS[1] stream  KEYS[2] origin key  KEYS[3] trimmed key (newest id trimmed away)
-- KEYS[4] last-id key (newest id ever assigned)
-- ARGV[1] after ("<ms>-<seq>")  ARGV[2] entries to look at, at most
-- ARGV[3] payload bytes to return, at most (at least one entry)
-- ARGV[4..] topic filters: "=<topic>" exact, "^<prefix/>" prefix; none = every topic
-- Returns {lost (0|1), XRANGE entries, more (0|1), next_after}: every entry ≤ next_after was
-- looked at; more = the stream holds entries after next_after.
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
local tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = tail[1] and tail[1][1]
local newest = redis.call('GET', KEYS[4])
if not newest or (last and less(newest, last)) then newest = last end
newest = newest or '0-0'
if less(newest, after) then
  -- Newer than anything assigned (SPEC §Publish: a client must never skip a new event
  -- because its id looks newer): history-lost, and the floor is the newest real id.
  return {1, {}, 0, newest}
end
local origin = redis.call('GET', KEYS[2])
if not origin or not last then
  -- No stream (never published, or Redis lost its data): any id is unknown here.
  return {less('0-0', after) and 1 or 0, {}, 0, after}
end
local lost = 0
if less(after, origin) then lost = 1 end -- from before this stream incarnation
local trimmed = redis.call('GET', KEYS[3])
if trimmed and less(after, trimmed) then lost = 1 end -- an event after it was trimmed

-- Topic names are [A-Za-z0-9._:/@-] and every string value in the stored JSON escapes its
-- quotes, so the first '"topics":[' is the field itself (docs/redis.md §Formats).
local exact, prefixes, all = {}, {}, #ARGV < 4
for i = 4, #ARGV do
  local kind, name = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2)
  if kind == '=' then exact[name] = true else prefixes[#prefixes + 1] = name end
end
local function wanted(payload)
  if all then return true end
  local list = string.match(payload, '"topics":%[([^%]]*)%]')
  if not list then return true end -- not our format: let the instance decide
  for topic in string.gmatch(list, '"([^"]*)"') do
    if exact[topic] then return true end
    for _, p in ipairs(prefixes) do
      if #topic > #p and string.sub(topic, 1, #p) == p then return true end
    end
  end
  return false
end
local function payload_of(entry)
  local fields = entry[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'e' then return fields[i + 1] end
  end
  return ''
end

-- Read in chunks, so that a page of large events stops at the byte bound without copying
-- ARGV[2] of them into the script first.
local out, bytes, cursor = {}, 0, after
local scan, maxbytes = tonumber(ARGV[2]), tonumber(ARGV[3])
local scanned, chunk = 0, 64
while scanned < scan and bytes < maxbytes do
  local ok, entries = pcall(redis.call, 'XRANGE', KEYS[1], '(' .. cursor, '+', 'COUNT',
                            math.min(chunk, scan - scanned))
  if not ok then return {lost, out, 0, cursor} end -- an id XRANGE cannot go past
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    if bytes >= maxbytes then break end
    scanned = scanned + 1
    cursor = entry[1]
    local payload = payload_of(entry)
    if wanted(payload) then
      out[#out + 1] = entry
      bytes = bytes + #payload
    end
  end
end
return {lost, out, less(cursor, last) and 1 or 0, cursor}
