-- Record a village's need: its description, its counters (requested, committed, delivered,
-- in hundredths) and its event, with the Idempotency-Key's answer: all or nothing, in the
-- village's hash slot. A repeat gets the first need's id.
-- KEYS: 1 needs hash (id -> JSON), 2 need counters hash, 3 village's needs index,
--       4 idempotency key, 5 outbox
-- ARGV: 1 need id, 2 need JSON, 3 requested (hundredths), 4 event JSON, 5-7 the request,
--       8 score
--! include idempotent_requests
local earlier = earlier_answer(KEYS[4], ARGV[5], ARGV[7])
if earlier == 'reused' then return {'reused'} end
if earlier then return {'replay', earlier['id']} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1] .. ':requested', ARGV[3], ARGV[1] .. ':committed', 0,
           ARGV[1] .. ':delivered', 0)
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[4])
remember_answer(KEYS[4], ARGV[5], ARGV[6], ARGV[7], {id = ARGV[1]})
return {'ok', ARGV[1]}
