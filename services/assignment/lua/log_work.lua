-- Record a work log on an active assignment and count it, in the same step, in the cadre's
-- and the village's summaries (days are sets of dates, so two logs of one day count once).
-- KEYS: 1 village's active set, 2 assignment's logs (zset by time logged), 3 logs hash,
--       4 cadre counters, 5 cadre days, 6 village counters, 7 village days,
--       8 idempotency key, 9 outbox
-- ARGV: 1 assignment id, 2 log id, 3 log JSON, 4 date, 5 task, 6 households, 7 event JSON,
--       8 score, 9-11 the request
-- Reply: {name, record JSON or false, detail or false} (store._answer reads it by position)
--! include idempotent_requests
local earlier = earlier_answer(KEYS[8], ARGV[9], ARGV[11])
if earlier == 'reused' then return {'reused', false, false} end
if earlier then return {'replay', redis.call('HGET', KEYS[3], earlier['id']), false} end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return {'not-active', false, false} end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[8], ARGV[2])
for _, counters in ipairs({KEYS[4], KEYS[6]}) do
    redis.call('HINCRBY', counters, 'entries:' .. ARGV[5], 1)
    redis.call('HINCRBY', counters, 'households:' .. ARGV[5], ARGV[6])
end
redis.call('SADD', KEYS[5], ARGV[4])
redis.call('SADD', KEYS[7], ARGV[4])
redis.call('RPUSH', KEYS[9], ARGV[7])
remember_answer(KEYS[8], ARGV[9], ARGV[10], ARGV[11], {id = ARGV[2]})
return {'ok', ARGV[3], false}
