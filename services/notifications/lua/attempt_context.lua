-- What one webhook attempt needs, in one round trip: the delivery, its webhook record and
-- health, and the notification as stored (packed). Read only.
-- KEYS: 1 the township's deliveries, 2 its webhooks, 3 id index (id -> township|seq),
--       4 its items (seq -> packed notification)
-- ARGV: 1 delivery id, 2 the township's key prefix (its webhooks' health hashes live under
--       it, in the same hash slot as KEYS 1, 2 and 4)
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {} end
local delivery = cjson.decode(raw)
local webhook = redis.call('HGET', KEYS[2], delivery['webhook_id'])
local health = redis.call('HGETALL', ARGV[2] .. ':webhook:' .. delivery['webhook_id'] .. ':health')
local item = false
local where = redis.call('HGET', KEYS[3], delivery['notification_id'])
if where then
    item = redis.call('HGET', KEYS[4], string.match(where, '|(%d+)$'))
end
return {raw, webhook, health, item}
