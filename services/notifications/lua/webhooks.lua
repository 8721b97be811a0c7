-- A township's webhooks, each with its health, in one round trip (every notification reads
-- them). Read only.
-- KEYS: 1 the township's webhooks (id -> record)
-- ARGV: 1 the township's key prefix (the health hashes live under it, in the same hash slot)
local found = {}
local records = redis.call('HGETALL', KEYS[1])
for i = 1, #records, 2 do
    local health = redis.call('HGETALL', ARGV[1] .. ':webhook:' .. records[i] .. ':health')
    found[#found + 1] = {records[i + 1], health}
end
return found
