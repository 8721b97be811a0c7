-- Reserve a quantity from a department's pool for a village: the check and the reservation
-- are one step, so reserved + delivered <= pooled holds under any number of concurrent
-- clients and service replicas. Stores the commitment, its indexes, its event in the
-- department's outbox and, with an Idempotency-Key, the commitment's id under that key: all
-- or nothing. Every key is in the department's hash slot.
-- KEYS: 1 pool hash of this kind, 2 commitments hash, 3 index of all, 4 index of 'committed',
--       5 idempotency key, 6 outbox
-- ARGV: 1 commitment id, 2 amount (hundredths), 3 unit, 4 commitment (JSON), 5 event (JSON),
--       6 request fingerprint, 7 idempotency ttl (s), 8 '1' if an Idempotency-Key was given,
--       9 index score (creation time, ms)
if ARGV[8] == '1' then
    local held = redis.call('GET', KEYS[5])
    if held then
        local record = cjson.decode(held)
        if record['fingerprint'] ~= ARGV[6] then return {'reused'} end
        return {'replay', redis.call('HGET', KEYS[2], record['id'])}
    end
end
local unit = redis.call('HGET', KEYS[1], 'unit')
if unit and unit ~= ARGV[3] then return {'unit-mismatch', unit} end
local pooled = tonumber(redis.call('HGET', KEYS[1], 'pooled') or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local delivered = tonumber(redis.call('HGET', KEYS[1], 'delivered') or '0')
local available = pooled - reserved - delivered
if tonumber(ARGV[2]) > available then return {'insufficient', string.format('%d', available)} end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[9], ARGV[1])
redis.call('RPUSH', KEYS[6], ARGV[5])
if ARGV[8] == '1' then
    redis.call('SET', KEYS[5], cjson.encode({fingerprint = ARGV[6], id = ARGV[1]}), 'EX', ARGV[7])
end
return {'ok', ARGV[4]}
