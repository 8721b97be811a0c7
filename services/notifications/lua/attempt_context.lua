-- What one webhook attempt needs, in one round trip: the delivery, its webhook as it stands
-- (with its health), and the notification as stored (packed). Read only.
-- KEYS: 1 the township's deliveries, 2 its webhooks, 3 id index (id -> township|seq),
--       4 its items (seq -> packed notification)
-- ARGV: 1 delivery id, 2, 3 a webhook's health key before and after its id (the store's
--       _health_key; in the same hash slot as KEYS 1, 2 and 4)
-- Returns {} when there is no such delivery, else {delivery JSON, webhook JSON or false (it
-- was removed), packed notification or false (not stored)}.
--! include webhook_health
--! include inbox_position
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {} end
local delivery = cjson.decode(raw)
local webhook = redis.call('HGET', KEYS[2], delivery['webhook_id'])
if webhook then
    webhook = cjson.encode(webhook_as_it_stands(webhook,
                                                ARGV[2] .. delivery['webhook_id'] .. ARGV[3]))
end
local item = false
local where = redis.call('HGET', KEYS[3], delivery['notification_id'])
if where then
    local _, seq = position_parts(where)
    item = redis.call('HGET', KEYS[4], seq)
end
return {raw, webhook, item}
