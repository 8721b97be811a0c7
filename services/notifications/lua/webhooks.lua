-- A township's webhooks, each as it stands (with its health), in one round trip (every
-- notification reads them). Read only.
-- KEYS: 1 the township's webhooks (id -> record)
-- ARGV: 1, 2 a webhook's health key before and after its id (the store's _health_key; in the
--       same hash slot as KEYS 1)
-- Returns each webhook's JSON.
--! include webhook_health
local found = {}
local records = redis.call('HGETALL', KEYS[1])
for i = 1, #records, 2 do
    local webhook = webhook_as_it_stands(records[i + 1], ARGV[1] .. records[i] .. ARGV[2])
    found[#found + 1] = cjson.encode(webhook)
end
return found
