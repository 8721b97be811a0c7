-- Put one notification in a township's inbox, exactly once per (event, township): the
-- notification id is derived from both, and the id index doubles as the duplicate check.
-- In the same step, store the work that follows from it, so none of it can be lost or done
-- twice: the message for the township's AMQP queue (outbox) and one delivery per webhook.
-- KEYS: 1 id index (id -> township|seq), 2 township's sequence, 3 items (seq -> JSON),
--       4 order (zset by seq), 5 unacked (zset by seq), 6 outbox, 7 deliveries hash,
--       8 due deliveries (zset by time), 9 townships with notifications, 10 the township's
--       deliveries in the order they were made
-- ARGV: 1 notification id, 2 township code, 3 notification JSON, 4 outbox entry, 5 now (ms),
--       6.. triples of delivery id, delivery JSON and its member in the due queue
--! include inbox_position
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], inbox_position(ARGV[2], seq))
redis.call('HSET', KEYS[3], seq, ARGV[3])
redis.call('ZADD', KEYS[4], seq, seq)
redis.call('ZADD', KEYS[5], seq, seq)
redis.call('SADD', KEYS[9], ARGV[2])
redis.call('RPUSH', KEYS[6], ARGV[4])
for i = 6, #ARGV, 3 do
    redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 1])
    redis.call('ZADD', KEYS[10], ARGV[5], ARGV[i])
    redis.call('ZADD', KEYS[8], ARGV[5], ARGV[i + 2])
end
return seq
