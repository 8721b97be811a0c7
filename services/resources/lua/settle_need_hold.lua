-- Change a commitment's hold on a need: to what was delivered (a partial delivery gives the
-- rest back to the need) or to nothing (a cancelled commitment, or one that was never
-- stored). Counts the delivered part. Repeating it changes nothing. Village hash slot.
-- KEYS: 1 need counters hash, 2 holds hash
-- ARGV: 1 need id, 2 the hold (store.need_hold), 3 its new amount (hundredths),
--       4 delivered (hundredths)
local hold = ARGV[2]
local held = redis.call('HGET', KEYS[2], hold)
if not held or string.find(held, ':settled', 1, true) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':committed', tonumber(ARGV[3]) - tonumber(held))
if tonumber(ARGV[4]) > 0 then
    redis.call('HINCRBY', KEYS[1], ARGV[1] .. ':delivered', ARGV[4])
end
if tonumber(ARGV[3]) > 0 then
    redis.call('HSET', KEYS[2], hold, ARGV[3] .. ':settled')
else
    redis.call('HDEL', KEYS[2], hold)
end
return 1
