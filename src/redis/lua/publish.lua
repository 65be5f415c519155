-- SPDX-License-Identifier: MIT
-- Stores and fans out a group commit: several publish requests, each one ordered batch of
-- events, atomically in one call (SPEC §Publish, docs/redis.md §Publishing).
-- KEYS[1] last-id key  KEYS[2] origin key  KEYS[3] this instance's ingest processing list
-- KEYS[4] topic index (ZSET, score 0: topic names, for prefix resumes)
-- KEYS[5] topic sizes (ZSET: topic -> entries retained)  KEYS[6] entries retained, in all
-- Per topic T (built from ARGV[1], the key prefix; topic names never contain '|', so the
-- three families cannot collide): <prefix>topic:T its capped stream, <prefix>topic-meta:T
-- a hash {last = newest id on T, trimmed = newest id removed from T, ttl_at = when both TTLs
-- were last set (ms)}, channel <prefix>events:T.
-- ARGV[1] key prefix  ARGV[2] history.max_events (per topic)  ARGV[3] history.max_age in ms
-- ARGV[4] the caller's id floor ("<ms>-<seq>")  ARGV[5] ingest item to consume ("" = none)
-- ARGV[6] how far ahead of TIME a stored id may be, in ms  ARGV[7] history.max_total_events
-- ARGV[8] number of requests, then
-- per request: its event count, then per event: its topic count, the topics, the JSON.
-- Returns {ids per request, ignored}: the ids assigned to each request, oldest first ({}
-- for a check with no requests, or when the ingest item was already consumed), and the ids
-- ignored as malformed or too far ahead. An error reply, with nothing written, when a
-- topic's keys cannot take an event.
--
-- Redis does not roll a script back: everything that can fail is checked before the first
-- write (or undone: the XADDs below), and the ingest item is removed last, once its events
-- are stored. Every command per topic is O(1) or O(what it removes): nothing walks a
-- stream (issue #13).
local kMaxSeq = 9007199254740991 -- 2^53 - 1: Lua numbers are doubles, exact up to here
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local horizon = now + tonumber(ARGV[6])
local prefix = ARGV[1]
local maxlen = tonumber(ARGV[2])
local maxage = tonumber(ARGV[3])
-- TTLs are refreshed at most once per `slack`, so a busy topic does not pay two PEXPIREs per
-- publish: the stream lives max_age to max_age + slack after its last event (replay never
-- returns an event older than max_age, so this is only memory), the meta record at least
-- 2 x max_age (replay.lua relies on that).
local slack = math.max(math.floor(maxage / 4), 1)

-- ms, seq of a well-formed id; nil for anything else. `bounded`: also nil when the id is
-- past the horizon (ids stored in Redis, which anyone with access to it can write).
local function parse(id, bounded)
  if type(id) ~= 'string' then return nil end
  local ms, seq = string.match(id, '^(%d+)%-(%d+)$')
  if not ms or #ms > 16 or #seq > 16 then return nil end
  ms, seq = tonumber(ms), tonumber(seq)
  if ms > kMaxSeq or seq > kMaxSeq or (bounded and ms > horizon) then return nil end
  return ms, seq
end
local function raise(bm, bs, m, s)
  if m > bm or (m == bm and s > bs) then return m, s end
  return bm, bs
end
local function refuse(why)
  return redis.error_reply('SSECAST_STREAM ' .. why .. '; nothing was published')
end

-- Ids never go back: above every topic's last id, the stored last id and the caller's
-- floor (the floor survives Redis losing its data).
local ignored = {}
local bm, bs = parse(ARGV[4], false)
if not bm then
  bm, bs = 0, 0
  if ARGV[4] ~= '' then ignored[#ignored + 1] = ARGV[4] end
end
local last = redis.pcall('GET', KEYS[1]) -- a table on WRONGTYPE: ignored, then overwritten
if last then
  local m, s = parse(last, true)
  if m then
    bm, bs = raise(bm, bs, m, s)
  else
    ignored[#ignored + 1] = type(last) == 'string' and last or '(not a string)'
  end
end

-- Decode the requests.
local requests, pos = {}, 9
for r = 1, tonumber(ARGV[8] or '0') do
  local events = {}
  local n = tonumber(ARGV[pos])
  pos = pos + 1
  for e = 1, n do
    local topics, k = {}, tonumber(ARGV[pos])
    for i = 1, k do topics[i] = ARGV[pos + i] end
    pos = pos + k + 1
    events[e] = {topics, ARGV[pos]}
    pos = pos + 1
  end
  requests[r] = events
end

-- Read every topic this commit writes, once: its meta record (newest id, which XADD must
-- exceed) and its length; a key of another type fails here, before any write.
local topics, order = {}, {}
for _, events in ipairs(requests) do
  for _, ev in ipairs(events) do
    for _, name in ipairs(ev[1]) do
      if not topics[name] then
        local st = {stream = prefix .. 'topic:' .. name, meta = prefix .. 'topic-meta:' .. name,
                    added = {}}
        local ok, meta = pcall(redis.call, 'HMGET', st.meta, 'last', 'trimmed', 'ttl_at')
        if not ok then return refuse(st.meta .. ' is not a hash (delete the key)') end
        local ok2, len = pcall(redis.call, 'XLEN', st.stream)
        if not ok2 then return refuse(st.stream .. ' is not a stream (delete the key)') end
        st.len = len
        st.fresh = len == 0
        st.ttl_at = tonumber(meta[3])
        local top = meta[1]
        if len > 0 and not top then
          -- A stream without its record (deleted by hand): ask the stream itself.
          local info = redis.call('XINFO', 'STREAM', st.stream)
          for i = 1, #info, 2 do
            if info[i] == 'last-generated-id' then top = info[i + 1] end
          end
        end
        if top then
          local m, s = parse(top, true)
          if not m then
            return refuse('the last id of ' .. name .. ' (' .. tostring(top) ..
              ') is malformed or more than ' .. ARGV[6] .. ' ms ahead of Redis TIME' ..
              ' (delete ' .. st.stream .. ' and ' .. st.meta .. ')')
          end
          bm, bs = raise(bm, bs, m, s)
        end
        if st.fresh and meta[1] then
          -- The stream expired with all its events (idle for max_age): they are trimmed.
          st.trimmed = meta[1]
        end
        topics[name] = st
        order[#order + 1] = name
      end
    end
  end
end

-- history.max_total_events: past it, the oldest events of the largest topic go first. The
-- sizes are exact except for streams that expired with their key (idle for max_age); those
-- are corrected here when they come up as the largest (XLEN), and by cleanup.lua.
local max_total = tonumber(ARGV[7])
local function enforce_total(total)
  for _ = 1, 32 do
    if total <= max_total then return end
    local top = redis.call('ZREVRANGE', KEYS[5], 0, 1, 'WITHSCORES')
    if #top == 0 then return end
    local name, counted = top[1], tonumber(top[2])
    local stream = prefix .. 'topic:' .. name
    local real = redis.call('XLEN', stream)
    if real ~= counted then
      redis.call('ZADD', KEYS[5], real, name)
      total = redis.call('INCRBY', KEYS[6], real - counted)
    else
      -- Down to the next largest topic's size (at least one event), at most the excess.
      local second = top[4] and tonumber(top[4]) or 0
      local k = math.min(total - max_total, math.max(real - second, 1), real)
      local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', k)
      redis.call('XTRIM', stream, 'MAXLEN', real - k)
      redis.call('HSET', prefix .. 'topic-meta:' .. name, 'trimmed', gone[#gone][1])
      redis.call('ZINCRBY', KEYS[5], -k, name)
      total = redis.call('INCRBY', KEYS[6], -k)
    end
  end
end

if ARGV[5] ~= '' and not redis.call('LPOS', KEYS[3], ARGV[5]) then
  return {{}, ignored} -- requeued or published by someone else: never publish it twice
end
if #requests == 0 then
  -- The periodic check: publishes that fill no new room skip the bound (below), so a
  -- lowered history.max_total_events is applied here, within a check interval.
  enforce_total(tonumber(redis.call('GET', KEYS[6]) or '0') or 0)
  return {{}, ignored}
end

-- Ids, in request order: strictly increasing across every topic of this Redis.
local ids, newest = {}, nil
for r, events in ipairs(requests) do
  local rids = {}
  for e, ev in ipairs(events) do
    if now > bm then bm, bs = now, 0 else bs = bs + 1 end
    local id = string.format('%d-%d', bm, bs)
    rids[e] = id
    newest = id
    for _, name in ipairs(ev[1]) do
      local st = topics[name]
      st.added[#st.added + 1] = id
    end
  end
  ids[r] = rids
end

-- XADD first, everywhere: it is the one write that can still fail (a stream whose last id
-- was raised by hand above its record). Then nothing was sent yet, so the entries added
-- are removed again and the publish is refused as a whole.
local written = {}
for r, events in ipairs(requests) do
  for e, ev in ipairs(events) do
    local id = ids[r][e]
    for _, name in ipairs(ev[1]) do
      local st = topics[name]
      local ok, err = pcall(redis.call, 'XADD', st.stream, id, 'e', ev[2])
      if not ok then
        for _, w in ipairs(written) do redis.call('XDEL', w[1], w[2]) end
        local text = type(err) == 'table' and err.err or tostring(err)
        local code = string.match(text, '^%u+')
        if code == 'READONLY' or code == 'MASTERDOWN' or code == 'LOADING' or code == 'OOM' then
          -- the node's state, not the stream's (a demoted master): the caller acts on it
          return redis.error_reply(text)
        end
        return refuse('the last id of ' .. st.stream .. ' is above its record (delete ' ..
          st.stream .. ' and ' .. st.meta .. ')')
      end
      written[#written + 1] = {st.stream, id}
    end
  end
end
for r, events in ipairs(requests) do
  for e, ev in ipairs(events) do
    local id = ids[r][e]
    for _, name in ipairs(ev[1]) do
      redis.call('PUBLISH', prefix .. 'events:' .. name, id .. ' ' .. ev[2])
    end
  end
end

-- Trimming stays exact (replay must know the newest id each topic lost; Redis 7.0 does not
-- record it for MAXLEN or MINID) and costs O(entries removed): a full topic reads the
-- entries it drops. Expired entries are dropped too when found there; the others stay
-- until the topic fills or its key expires (history.max_age after its last publish), and
-- replay never returns an entry older than max_age, so this is only about memory.
local cutoff = now - maxage
local total_delta = 0
for _, name in ipairs(order) do
  local st = topics[name]
  local excess = st.len + #st.added - maxlen
  local removed = 0
  if excess > 0 then
    removed = excess
    -- One entry more than goes: the new oldest one, to see whether age trimming is due.
    local gone = redis.call('XRANGE', st.stream, '-', '+', 'COUNT', excess + 1)
    local next_first = gone[excess + 1]
    st.trimmed = gone[math.min(excess, #gone)][1]
    redis.call('XTRIM', st.stream, 'MAXLEN', maxlen)
    if next_first and parse(next_first[1]) < cutoff then
      local min = string.format('%d-0', cutoff)
      local expired = redis.call('XREVRANGE', st.stream, '(' .. min, '-', 'COUNT', 1)
      if #expired > 0 then
        st.trimmed = expired[1][1]
        removed = removed + redis.call('XTRIM', st.stream, 'MINID', min)
      end
    end
  end
  -- An idle topic's events all expire together with its stream; the meta record outlives
  -- it so that a resume still knows what this topic lost (replay.lua). A new stream (fresh)
  -- has no TTL yet.
  local fields = {'HSET', st.meta, 'last', st.added[#st.added]}
  if st.trimmed then
    fields[#fields + 1] = 'trimmed'
    fields[#fields + 1] = st.trimmed
  end
  local refresh = st.fresh or not st.ttl_at or now - st.ttl_at >= slack or st.ttl_at > now
  if refresh then
    fields[#fields + 1] = 'ttl_at'
    fields[#fields + 1] = tostring(now)
  end
  redis.call(unpack(fields))
  if refresh then
    redis.call('PEXPIRE', st.stream, maxage + slack)
    redis.call('PEXPIRE', st.meta, 2 * maxage + slack)
  end
  local grown = #st.added - removed
  if st.fresh then
    redis.call('ZADD', KEYS[4], 0, name)
    -- A stream gone by expiry held nothing any more, whatever its size still says.
    local counted = tonumber(redis.call('ZSCORE', KEYS[5], name) or '0')
    redis.call('ZADD', KEYS[5], grown, name)
    total_delta = total_delta + grown - counted
  elseif grown ~= 0 then
    redis.call('ZINCRBY', KEYS[5], grown, name)
    total_delta = total_delta + grown
  end
end
-- A commit into full topics adds as much as it trims: the total did not move.
if total_delta ~= 0 then enforce_total(redis.call('INCRBY', KEYS[6], total_delta)) end

redis.call('SET', KEYS[1], newest)
redis.call('SET', KEYS[2], ids[1][1], 'NX') -- first id of this incarnation of the data
if ARGV[5] ~= '' then redis.call('LREM', KEYS[3], 1, ARGV[5]) end
return {ids, ignored}
