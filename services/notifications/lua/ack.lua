-- A township's receipt (签收) of a notification: recorded once; acking again changes nothing
-- and answers with the first receipt, and the notification as stored (packed).
-- KEYS: 1 id index (id -> township|seq), 2 acks hash (seq -> JSON), 3 unacked zset,
--       4 items (seq -> packed notification)
-- ARGV: 1 notification id, 2 township code, 3 receipt JSON
--! include inbox_position
local where = redis.call('HGET', KEYS[1], ARGV[1])
if not where then return {'not-found'} end
local township, seq = position_parts(where)
if township ~= ARGV[2] then return {'not-found'} end
if redis.call('HSETNX', KEYS[2], seq, ARGV[3]) == 1 then
    redis.call('ZREM', KEYS[3], seq)
end
return {'ok', seq, redis.call('HGET', KEYS[2], seq), redis.call('HGET', KEYS[4], seq)}
