-- Record one attempt to deliver to a webhook, all at once: the attempt in the delivery's log,
-- the delivery's new state, when (if ever) it is tried again, and what the attempt tells
-- about the webhook. Concurrent attempts to one webhook each change only their own fields of
-- its health (a count is incremented, never overwritten).
-- KEYS: 1 the delivery's attempts (list), 2 the township's deliveries (id -> JSON),
--       3 due deliveries (zset by time), 4 the webhook's health (hash)
-- ARGV: 1 attempt JSON, 2 delivery id, 3 delivery JSON, 4 its member in the due queue,
--       5 the member it was claimed as ('' if not claimed), 6 next attempt (ms; '' for none),
--       7 verdict: 'succeeded', 'failed', 'gone' or '' (says nothing about the webhook),
--       8 the attempt's time, 9 the webhook's last error (failed) or why it is disabled (gone)
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if ARGV[5] ~= '' and ARGV[5] ~= ARGV[4] then
    redis.call('ZREM', KEYS[3], ARGV[5])  -- claimed under an older form of its member
end
if ARGV[6] == '' then
    redis.call('ZREM', KEYS[3], ARGV[4])
else
    redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4])
end
if ARGV[7] == 'succeeded' then
    redis.call('HSET', KEYS[4], 'consecutive_failures', 0, 'last_success_at', ARGV[8])
elseif ARGV[7] == 'failed' then
    redis.call('HINCRBY', KEYS[4], 'consecutive_failures', 1)
    redis.call('HSET', KEYS[4], 'last_error', ARGV[9])
elseif ARGV[7] == 'gone' then  -- never undone: a new webhook is the way back
    redis.call('HSET', KEYS[4], 'status', 'disabled', 'disabled_at', ARGV[8],
               'disabled_reason', ARGV[9])
end
return 1
