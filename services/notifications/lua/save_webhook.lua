-- Store a township's new webhook, or answer with the one this Idempotency-Key made: all or
-- nothing.
-- KEYS: 1 the township's webhooks (id -> record), 2 townships with feeds, 3 idempotency key
-- ARGV: 1 webhook id, 2 webhook JSON, 3 township code, 4, 5 a webhook's health key before and
--       after its id (the store's _health_key), 6-8 the request
-- Returns {'ok'} (stored; the caller holds the webhook), {'replay', the key's webhook JSON, as
-- it stands}, {'reused'} (the key came with another body) or {'gone', webhook id} (the key's
-- webhook was removed since).
--! include idempotent_requests
--! include webhook_health
local earlier = earlier_answer(KEYS[3], ARGV[6], ARGV[8])
if earlier == 'reused' then return {'reused'} end
if earlier then
    local held = redis.call('HGET', KEYS[1], earlier['id'])
    if not held then return {'gone', earlier['id']} end
    local webhook = webhook_as_it_stands(held, ARGV[4] .. earlier['id'] .. ARGV[5])
    return {'replay', cjson.encode(webhook)}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
remember_answer(KEYS[3], ARGV[6], ARGV[7], ARGV[8], {id = ARGV[1]})
return {'ok'}
