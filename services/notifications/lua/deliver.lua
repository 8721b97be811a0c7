-- Put one notification in a township's inbox, exactly once per (event, township): the
-- notification id is derived from both, and the id index doubles as the duplicate check.
-- KEYS: 1 id index (id -> township|seq), 2 township's sequence counter, 3 township's items
--       hash (seq -> JSON), 4 township's order (zset by seq), 5 township's unacked (zset by seq)
-- ARGV: 1 notification id, 2 township code, 3 notification JSON
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '|' .. seq)
redis.call('HSET', KEYS[3], seq, ARGV[3])
redis.call('ZADD', KEYS[4], seq, seq)
redis.call('ZADD', KEYS[5], seq, seq)
return seq
