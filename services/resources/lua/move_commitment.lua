-- Move a commitment one step forward (deliver, confirm, cancel) and settle its department's
-- pool in the same step: lifecycles only move forward, and reserved + delivered <= pooled
-- holds at every instant. Every key is in the department's hash slot.
-- KEYS: 1 pool hash of the kind, 2 commitments hash, 3 index of the old status, 4 index of the
--       new status, 5 outbox
-- ARGV: 1 id, 2 expected status, 3 new commitment JSON, 4 event JSON, 5 change of reserved
--       (hundredths, <= 0), 6 change of delivered (hundredths, >= 0), 7 index score
local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return {'not-found'} end
if cjson.decode(held)['status'] ~= ARGV[2] then return {'wrong-status', held} end
if tonumber(ARGV[5]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[5]) end
if tonumber(ARGV[6]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'delivered', ARGV[6]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[4])
return {'ok', ARGV[3]}
