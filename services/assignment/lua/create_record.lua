-- Store a new record (cadre, problem, planned inspection) with its indexes, its event (if
-- any) and its Idempotency-Key's answer: all or nothing.
-- KEYS: 1 records hash, 2 idempotency key, 3 outbox, 4.. index sorted sets
-- ARGV: 1 id, 2 record JSON, 3 event JSON ('' for none), 4 score, 5-7 the request
-- Reply: {name, record JSON or false, detail or false} (store._answer reads it by position)
--! include idempotent_requests
local earlier = earlier_answer(KEYS[2], ARGV[5], ARGV[7])
if earlier == 'reused' then return {'reused', false, false} end
if earlier then return {'replay', redis.call('HGET', KEYS[1], earlier['id']), false} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], ARGV[4], ARGV[1]) end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
remember_answer(KEYS[2], ARGV[5], ARGV[6], ARGV[7], {id = ARGV[1]})
return {'ok', ARGV[2], false}
