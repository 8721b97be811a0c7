-- Add a quantity to a department's pool of one kind, store the event in the outbox and, when
-- the request carried an Idempotency-Key, remember the response under it: all or nothing.
-- KEYS: 1 pool hash of this kind, 2 the department's kinds set, 3 idempotency key, 4 outbox
-- ARGV: 1 kind, 2 unit, 3 amount (hundredths), 4 request fingerprint, 5 event (JSON),
--       6 idempotency ttl (s), 7 '1' if an Idempotency-Key was given
-- Numbers become strings only through string.format('%d'): tostring() and cjson round to 14
-- significant digits.
if ARGV[7] == '1' then
    local held = redis.call('GET', KEYS[3])
    if held then
        local record = cjson.decode(held)
        if record['fingerprint'] ~= ARGV[4] then return {'reused'} end
        return {'replay', record['unit'], record['pooled'], record['reserved'], record['delivered']}
    end
end
local unit = redis.call('HGET', KEYS[1], 'unit')
if unit and unit ~= ARGV[2] then return {'unit-mismatch', unit} end
redis.call('HSETNX', KEYS[1], 'unit', ARGV[2])
local pooled = string.format('%d', redis.call('HINCRBY', KEYS[1], 'pooled', ARGV[3]))
local reserved = redis.call('HGET', KEYS[1], 'reserved') or '0'
local delivered = redis.call('HGET', KEYS[1], 'delivered') or '0'
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[5])
if ARGV[7] == '1' then
    redis.call('SET', KEYS[3], cjson.encode({fingerprint = ARGV[4], unit = ARGV[2],
        pooled = pooled, reserved = reserved, delivered = delivered}), 'EX', ARGV[6])
end
return {'ok', ARGV[2], pooled, reserved, delivered}
