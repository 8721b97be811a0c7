-- A township's manual retry: the delivery becomes due now. Only a delivery of this webhook,
-- only while the webhook is active (a disabled one stays disabled: a new webhook is the way
-- back), and not while the delivery already waits for an attempt.
-- KEYS: 1 the township's webhooks, 2 its deliveries (id -> JSON), 3 due deliveries,
--       4 the delivery's attempts (list), 5 the webhook's health (hash)
-- ARGV: 1 webhook id, 2 delivery id, 3 its member in the due queue, 4 now (ms), 5 now (RFC 3339)
-- Returns {outcome, ...}: {'no-webhook'}, {'no-delivery'}, {'webhook-disabled', reason},
-- {'pending'}, or {'ok', delivery JSON, attempts}.
--! include webhook_health
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return {'no-webhook'} end
local raw = redis.call('HGET', KEYS[2], ARGV[2])
if not raw then return {'no-delivery'} end
local delivery = cjson.decode(raw)
if delivery['webhook_id'] ~= ARGV[1] then return {'no-delivery'} end
local webhook = webhook_as_it_stands(record, KEYS[5])
if webhook['status'] ~= 'active' then
    local reason = webhook['disabled_reason']
    return {'webhook-disabled', type(reason) == 'string' and reason or ''}
end
if delivery['status'] == 'pending' then return {'pending'} end
delivery['status'] = 'pending'
delivery['next_attempt_at'] = ARGV[5]
raw = cjson.encode(delivery)
redis.call('HSET', KEYS[2], ARGV[2], raw)
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
return {'ok', raw, redis.call('LRANGE', KEYS[4], 0, -1)}
