-- Reserve a quantity from a department's pool for a village: the check and the reservation
-- are one step, so reserved + delivered <= pooled holds under any number of concurrent
-- clients and service replicas. Stores the commitment, its indexes, its event in the
-- department's outbox and, with an Idempotency-Key, the commitment's id under that key: all
-- or nothing. Every key is in the department's hash slot.
-- KEYS: 1 pool hash of this kind, 2 commitments hash, 3 index of all, 4 index of 'committed',
--       5 idempotency key, 6 outbox
-- ARGV: 1 commitment id, 2 amount (hundredths), 3 unit, 4 commitment (JSON), 5 event (JSON),
--       6-8 the request, 9 index score (creation time, ms), 10 when its need was held (ms;
--       '' without a need), 11 how long a hold may wait for its commitment (ms)
-- A commitment whose need was held longer ago than that is refused ('hold-expired'): the
-- sweeper may have given the hold back (store.sweep_pending_holds), and storing the
-- commitment then would over-commit the need. Time is Redis's, as the sweeper reads it.
-- A refusal for want of stock answers the pool's counters as stored (pooled, reserved,
-- delivered); what is available of them is domain.PoolBalance.available.
--! include commitment_answer
-- (which includes idempotent_requests: remember_answer below)
local earlier = earlier_commitment(KEYS[5], ARGV[6], ARGV[8], KEYS[2])
if earlier then return earlier end
if ARGV[10] ~= '' then
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    if now_ms - tonumber(ARGV[10]) > tonumber(ARGV[11]) then return {'hold-expired'} end
end
local unit = redis.call('HGET', KEYS[1], 'unit')
if unit and unit ~= ARGV[3] then return {'unit-mismatch', unit} end
local pooled = redis.call('HGET', KEYS[1], 'pooled') or '0'
local reserved = redis.call('HGET', KEYS[1], 'reserved') or '0'
local delivered = redis.call('HGET', KEYS[1], 'delivered') or '0'
if tonumber(reserved) + tonumber(delivered) + tonumber(ARGV[2]) > tonumber(pooled) then
    return {'insufficient', pooled, reserved, delivered}
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[9], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[9], ARGV[1])
redis.call('RPUSH', KEYS[6], ARGV[5])
remember_answer(KEYS[5], ARGV[6], ARGV[7], ARGV[8], {id = ARGV[1]})
return {'ok', ARGV[4]}
