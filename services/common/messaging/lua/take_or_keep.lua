-- The relay's lock: take it if it is free, or keep it (renew its expiry) if this relay holds
-- it, in one round trip.
-- KEYS: 1 the lock
-- ARGV: 1 this relay's token, 2 the lock's expiry (ms)
-- Returns 1 when this relay holds the lock now; 0 when another does (nothing changed).
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
    return 1
end
return 0
