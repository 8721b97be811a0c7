-- Claim up to ARGV[3] due webhook deliveries for ARGV[2] ms: a claimed delivery becomes due
-- again if its worker dies before recording the attempt, so none is lost.
-- A webhook takes at most ARGV[4] attempts at once: its deliveries beyond that stay due, so
-- a slow receiver never takes every slot. When a full look found nothing to claim, each busy
-- webhook keeps its next ARGV[4] deliveries at the head (ready for its next free slot) and the
-- rest it passed by go back ARGV[6] ms, so the next look reaches past them: a receiver with a
-- long queue never hides other townships' deliveries. (A look that claimed something moves
-- the queue on by itself.)
-- KEYS: 1 due deliveries (zset by time; members as the store's due_member makes them,
--       township|delivery|webhook: this script reads the webhook id out of them)
-- ARGV: 1 now (ms), 2 lease (ms), 3 how many, 4 attempts per webhook, 5 look at most,
--       6 put back (ms), 7.. pairs of webhook id and its attempts in flight
local now, want, cap = tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4])
local in_flight = {}
for i = 7, #ARGV, 2 do in_flight[ARGV[i]] = tonumber(ARGV[i + 1]) end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[5])
local claimed, passed_by, waiting = {}, {}, {}
for _, member in ipairs(due) do
    if #claimed >= want then break end
    local webhook = string.match(member, '^[^|]+|[^|]+|(.+)$')
    local busy = webhook and (in_flight[webhook] or 0) or 0
    if busy < cap then
        if webhook then in_flight[webhook] = busy + 1 end
        claimed[#claimed + 1] = member
    else
        waiting[webhook] = (waiting[webhook] or 0) + 1
        if waiting[webhook] > cap then passed_by[#passed_by + 1] = member end
    end
end
for _, member in ipairs(claimed) do
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), member)
end
if #claimed == 0 and #due == tonumber(ARGV[5]) then
    for _, member in ipairs(passed_by) do
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[6]), member)
    end
end
return claimed
