-- Whether a commitment request was answered before under its Idempotency-Key, asked before
-- its need is held: a repeat gets the first commitment even when the need is full by now,
-- and holds nothing. commit.lua asks again, atomically, before it reserves. Department hash
-- slot.
-- KEYS: 1 idempotency key, 2 commitments hash
-- ARGV: 1-3 the request
--! include idempotent_requests
local earlier = earlier_answer(KEYS[1], ARGV[1], ARGV[3])
if earlier == 'reused' then return {'reused'} end
if earlier then
    local held = redis.call('HGET', KEYS[2], earlier['id'])
    if held then return {'replay', held} end
end
return {'new'}
