-- Store a new record (cadre, problem, planned inspection) with its indexes, its event (if
-- any) and its idempotency key: all or nothing.
-- KEYS: 1 records hash, 2 idempotency key, 3 outbox, 4.. index sorted sets
-- ARGV: 1 id, 2 record JSON, 3 event JSON ('' for none), 4 fingerprint, 5 idempotency ttl,
--       6 '1' if an Idempotency-Key was given, 7 score
if ARGV[6] == '1' then
    local held = redis.call('GET', KEYS[2])
    if held then
        local record = cjson.decode(held)
        if record['fingerprint'] ~= ARGV[4] then return {'reused'} end
        return {'replay', redis.call('HGET', KEYS[1], record['id'])}
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for i = 4, #KEYS do redis.call('ZADD', KEYS[i], ARGV[7], ARGV[1]) end
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
if ARGV[6] == '1' then
    redis.call('SET', KEYS[2], cjson.encode({fingerprint = ARGV[4], id = ARGV[1]}), 'EX', ARGV[5])
end
return {'ok', ARGV[2]}
