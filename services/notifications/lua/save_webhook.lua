-- Store a township's new webhook, or answer with the one this Idempotency-Key made: all or
-- nothing.
-- KEYS: 1 the township's webhooks (id -> record), 2 townships with feeds, 3 idempotency key
-- ARGV: 1 webhook id, 2 webhook JSON, 3 township code, 4 the township's key prefix (its
--       webhooks' health hashes live under it), 5-7 the request
--! include idempotent_requests
local earlier = earlier_answer(KEYS[3], ARGV[5], ARGV[7])
if earlier == 'reused' then return {'reused'} end
if earlier then
    local held = redis.call('HGET', KEYS[1], earlier['id'])
    if not held then return {'gone', earlier['id']} end
    local health = redis.call('HGETALL', ARGV[4] .. ':webhook:' .. earlier['id'] .. ':health')
    return {'replayed', held, health}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
remember_answer(KEYS[3], ARGV[5], ARGV[6], ARGV[7], {id = ARGV[1]})
return {'created', ARGV[2], {}}
