-- Record a village's need: its description, its counters (requested, committed, delivered,
-- in hundredths) and its event, with the Idempotency-Key: all or nothing, in the village's
-- hash slot.
-- KEYS: 1 needs hash (id -> JSON), 2 need counters hash, 3 village's needs index,
--       4 idempotency key, 5 outbox
-- ARGV: 1 need id, 2 need JSON, 3 requested (hundredths), 4 event JSON, 5 fingerprint,
--       6 idempotency ttl, 7 '1' if an Idempotency-Key was given, 8 score
if ARGV[7] == '1' then
    local held = redis.call('GET', KEYS[4])
    if held then
        local record = cjson.decode(held)
        if record['fingerprint'] ~= ARGV[5] then return {'reused'} end
        return {'replay', record['id']}
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1] .. ':requested', ARGV[3], ARGV[1] .. ':committed', 0,
           ARGV[1] .. ':delivered', 0)
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[4])
if ARGV[7] == '1' then
    redis.call('SET', KEYS[4], cjson.encode({fingerprint = ARGV[5], id = ARGV[1]}), 'EX', ARGV[6])
end
return {'ok', ARGV[1]}
