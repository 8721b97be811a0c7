-- Add a quantity to a department's pool of one kind, store the event in the outbox and, when
-- the request carried an Idempotency-Key, remember the answer (the pool item after it) under
-- it: all or nothing. A repeat gets that first answer. Department hash slot.
-- KEYS: 1 pool hash of this kind, 2 the department's kinds set, 3 idempotency key, 4 outbox
-- ARGV: 1 kind, 2 unit, 3 amount (hundredths), 4 event (JSON), 5-7 the request
-- Numbers become strings only through string.format('%d'): tostring() and cjson round to 14
-- significant digits.
--! include idempotent_requests
local earlier = earlier_answer(KEYS[3], ARGV[5], ARGV[7])
if earlier == 'reused' then return {'reused'} end
if earlier then
    return {'replay', earlier['unit'], earlier['pooled'], earlier['reserved'], earlier['delivered']}
end
local unit = redis.call('HGET', KEYS[1], 'unit')
if unit and unit ~= ARGV[2] then return {'unit-mismatch', unit} end
redis.call('HSETNX', KEYS[1], 'unit', ARGV[2])
local pooled = string.format('%d', redis.call('HINCRBY', KEYS[1], 'pooled', ARGV[3]))
local reserved = redis.call('HGET', KEYS[1], 'reserved') or '0'
local delivered = redis.call('HGET', KEYS[1], 'delivered') or '0'
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[4])
remember_answer(KEYS[3], ARGV[5], ARGV[6], ARGV[7],
    {unit = ARGV[2], pooled = pooled, reserved = reserved, delivered = delivered})
return {'ok', ARGV[2], pooled, reserved, delivered}
