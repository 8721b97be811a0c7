-- A webhook as it stands (a library: `--! include webhook_health`). Its record is written
-- once, when it is made; what deliveries learn about it (failures in a row, the last error,
-- the last success, disabled and why) is kept apart in its health hash, field by field, so
-- concurrent attempts never overwrite each other's findings. Each field of the health
-- overrides the record's; failures in a row are the health's count (0 before any). The one
-- home of that rule: every script that answers a webhook, or decides by its status, reads it
-- through this.

-- The webhook whose record (JSON) is `record`, with its health (the hash `health_key`) laid
-- over it: a table (cjson.encode it to answer it).
local function webhook_as_it_stands(record, health_key)
    local webhook = cjson.decode(record)
    local health = redis.call('HGETALL', health_key)
    local failures = 0
    for i = 1, #health, 2 do
        webhook[health[i]] = health[i + 1]
        if health[i] == 'consecutive_failures' then failures = tonumber(health[i + 1]) end
    end
    webhook['consecutive_failures'] = failures
    return webhook
end
