-- SPDX-License-Identifier: MIT
-- Sliding-log rate limit for every rule of ONE request, atomically (SPEC §Rate limiting).
-- Mirrors first_in_window() + decide() in src/ratelimit/sliding_window.cpp; change both together.
--
-- KEYS[i]  one ZSET per applicable rule: <prefix>rl:<AppliedRule::key>; members are accepted
--          requests, scored by their time in microseconds (Redis TIME, so every instance
--          shares one clock).
-- ARGV[1]  a member suffix unique per request (e.g. "<instance_id>:<counter>").
-- ARGV[2i], ARGV[2i+1]  limit and window (microseconds) of rule i (i = 1..#KEYS).
-- Returns  { allowed(0|1), then per rule i: allowed_i, remaining_i, reset_after_us_i,
--          retry_after_us_i }: the WindowVerdicts that ratelimit::combine() folds.
-- Guarantee: a request is added to every ZSET or to none; each ZSET holds at most `limit`
-- members inside its window, so over any window at most `limit` are accepted globally.
if redis.replicate_commands then
    redis.replicate_commands() -- Redis < 7: TIME before writes needs effects replication
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function num(x)
    return string.format('%.0f', x) -- integers up to 2^53 exactly, never 1e+15 notation
end

local n = #KEYS
local all_allowed = 1
local out = {0}
for i = 1, n do
    local key = KEYS[i]
    local limit = tonumber(ARGV[2 * i])
    local window = tonumber(ARGV[2 * i + 1])
    -- first_in_window(): an accepted request at t counts while t > now - window.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', num(now - window))
    local count = redis.call('ZCARD', key)
    local allowed, remaining, reset_after, retry_after
    if count < limit then
        allowed, remaining, retry_after = 1, limit - count - 1, 0
        local oldest = now
        if count > 0 then
            oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
        end
        reset_after = oldest + window - now
    else
        allowed, remaining = 0, 0
        local idx = count - limit
        local blocker = tonumber(redis.call('ZRANGE', key, idx, idx, 'WITHSCORES')[2])
        retry_after = blocker + window - now
        reset_after = retry_after
        all_allowed = 0
    end
    out[#out + 1] = allowed
    out[#out + 1] = remaining
    out[#out + 1] = reset_after
    out[#out + 1] = retry_after
end

-- Counted only when every rule accepts (a refused request is counted nowhere).
if all_allowed == 1 then
    local member = num(now) .. ':' .. ARGV[1]
    for i = 1, n do
        local window = tonumber(ARGV[2 * i + 1])
        redis.call('ZADD', KEYS[i], num(now), member)
        redis.call('PEXPIRE', KEYS[i], math.ceil(window / 1000) + 1000)
    end
end
out[1] = all_allowed
return out
