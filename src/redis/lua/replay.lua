-- SPDX-License-Identifier: MIT
-- One page of the retained events after an id on the subscription's topics, and whether
-- some event it never saw is gone (SPEC §Resume). Reads only those topics' streams
-- (publish.lua keeps one per topic), merged in id order, so the cost is what the client
-- missed plus one lookup per topic, not all traffic since (issue #13). Paged: at most
-- ARGV[3] entries looked at and ARGV[4] bytes returned per call (#12).
-- KEYS[1] last-id key (newest id ever assigned)  KEYS[2] origin key  KEYS[3] topic index
-- ARGV[1] key prefix  ARGV[2] after ("<ms>-<seq>")  ARGV[3] entries to look at, at most
-- ARGV[4] payload bytes to return, at most (at least one entry)  ARGV[5] history.max_age
-- in ms  ARGV[6] how far ahead of TIME an id may be, in ms  ARGV[7] the id through which
-- the client was already told history-lost ("0-0": not yet; a later page of one resume)
-- ARGV[8..] topics: "=<topic>" exact, "^<prefix/>" prefix, "^" every topic
-- Returns {lost (0|1), entries [id, [field, value]] oldest first, more (0|1), next_after,
-- lost_through}: every retained entry ≤ next_after on these topics was looked at; more =
-- some remain; lost_through = every gone event that made this page lost is ≤ it.
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

local prefix, after, reported = ARGV[1], ARGV[2], ARGV[7]
local newest = redis.call('GET', KEYS[1])
if not newest and not redis.call('GET', KEYS[2]) and less('0-0', after) then
  -- Nothing was ever stored here, and the caller asks where this node stands (a stream over
  -- several shards learns its start on each: docs/redis.md §Shards). Start this
  -- incarnation of the data now, as upgrade.lua does, so that a resume from this position
  -- after the first events are stored is not taken for one from before the data began.
  local t = redis.call('TIME')
  newest = string.format('%d-0', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('SET', KEYS[1], newest, 'NX')
  redis.call('SET', KEYS[2], newest, 'NX')
end
newest = newest or '0-0'
if less(newest, after) then
  -- Newer than anything assigned (SPEC §Publish: a client must never skip a new event
  -- because its id looks newer): history-lost, and the floor is the newest real id.
  return {1, {}, 0, newest, newest}
end
local origin = redis.call('GET', KEYS[2])
if not origin then
  -- Nothing was ever published here (or Redis lost its data): any id is unknown.
  return {less('0-0', after) and 1 or 0, {}, 0, after, after}
end
-- Per-topic trimming means one page can end below where another topic's loss lies; each
-- loss is reported once per resume: only gone events newer than `reported` count.
local lost, lost_through = 0, '0-0'
local function lose(through)
  if less(reported, through) then lost = 1 end
  if less(lost_through, through) then lost_through = through end
end
if less(after, origin) then lose(origin) end -- from before this incarnation of the data

-- A topic's meta record lives 2 × max_age after its last event. Without one, no event
-- of that topic can be newer than `after` unless `after` is older than that horizon
-- (minus how far ids may run ahead of the clock); then we cannot know, and say lost.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxage = tonumber(ARGV[5])
local after_ms = parse(after)
local horizon = now - 2 * maxage + tonumber(ARGV[6])
local forgotten = after_ms < horizon
local horizon_id = string.format('%d-0', math.max(horizon, 0))
local cutoff = now - maxage

local names, seen = {}, {}
local function add(name)
  if not seen[name] then
    seen[name] = true
    names[#names + 1] = name
  end
end
for i = 8, #ARGV do
  local kind, name = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 2)
  if kind == '=' then
    add(name)
  else
    if forgotten then lose(horizon_id) end -- topics under it may be forgotten entirely
    local min, max = '-', '+'
    if name ~= '' then min, max = '[' .. name, '(' .. name .. '\255' end
    for _, n in ipairs(redis.call('ZRANGE', KEYS[3], min, max, 'BYLEX')) do add(n) end
  end
end

-- The topics with something newer than `after`, each read in chunks from its position.
local chunk = 64
local sources = {}
for _, name in ipairs(names) do
  local meta = redis.call('HMGET', prefix .. 'topic-meta:' .. name, 'last', 'trimmed')
  if not meta[1] then
    if forgotten then lose(horizon_id) end
  elseif less(after, meta[1]) then
    if meta[2] and less(after, meta[2]) then lose(meta[2]) end -- trimmed after `after`
    sources[#sources + 1] = {key = prefix .. 'topic:' .. name, cursor = after, buf = {}, i = 1,
                             last = meta[1]}
  end
end
local function fill(s)
  s.buf = redis.call('XRANGE', s.key, '(' .. s.cursor, '+', 'COUNT', chunk)
  s.i = 1
  s.done = #s.buf < chunk
  if #s.buf > 0 then s.cursor = s.buf[#s.buf][1] end
end
for _, s in ipairs(sources) do
  fill(s)
  -- Its meta says it holds events after `after`; none is left: they expired with it.
  if #s.buf == 0 then lose(s.last) end
end
local function head(s)
  if s.i > #s.buf and not s.done then fill(s) end
  return s.buf[s.i]
end
local function payload_of(entry)
  local fields = entry[2]
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'e' then return fields[i + 1] end
  end
  return ''
end

-- Merge by id; an event on several of these topics is in each of their streams: once.
local out, bytes, scanned, cursor = {}, 0, 0, after
local scan, maxbytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while scanned < scan and bytes < maxbytes do
  local best, best_entry = nil, nil
  for _, s in ipairs(sources) do
    local e = head(s)
    if e and (not best_entry or less(e[1], best_entry[1])) then best, best_entry = s, e end
  end
  if not best then break end
  best.i = best.i + 1
  if best_entry[1] ~= cursor then
    scanned = scanned + 1
    cursor = best_entry[1]
    if parse(cursor) < cutoff then
      lose(cursor) -- expired, not yet trimmed: gone for a resume
    else
      out[#out + 1] = best_entry
      bytes = bytes + #payload_of(best_entry)
    end
  end
end
local more = 0
for _, s in ipairs(sources) do
  local e = head(s)
  if e then
    -- Skip copies of the last event returned, so `more` means a new event remains.
    while e and e[1] == cursor do
      s.i = s.i + 1
      e = head(s)
    end
    if e then more = 1 end
  end
end
return {lost, out, more, cursor, lost_through}
