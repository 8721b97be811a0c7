-- The relay's trim: remove the first ARGV[2] entries of an outbox once the broker confirmed
-- them, only while this relay still holds the lock (with the lock lost, another relay may
-- already have removed them), and only if the ARGV[2]-th is still the last one published: a
-- trim sent twice (the client retries a pipeline whose replies a broken connection lost)
-- would otherwise drop entries never published. Renews the lock.
-- KEYS: 1 the outbox (list), 2 the relay's lock
-- ARGV: 1 this relay's token, 2 how many entries were published, 3 the lock's expiry (ms),
--       4 the SHA-1 of the last entry published
-- Returns 1 when trimmed; 0 when the lock is another's (nothing changed) or the entries moved
-- (the lock renewed, the outbox left alone).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
local last = redis.call('LINDEX', KEYS[1], tonumber(ARGV[2]) - 1)
if last and redis.sha1hex(last) == ARGV[4] then
    redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
    return 1
end
return 0
