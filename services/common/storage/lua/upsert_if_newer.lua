-- A directory projection's write: store the record only if it is newer than the one held
-- (projections receive events out of order). Safe to repeat: a redelivered event or a
-- repeated fetch finds its own revision held and changes nothing, so no marker is kept.
-- KEYS: 1 the projection (code -> record JSON)
-- ARGV: 1 the record's code, 2 the record JSON, 3 its revision
-- Returns 1 when stored; 0 when the held record's revision is as new or newer.
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
    local revision = cjson.decode(held)['revision']
    if revision and revision >= tonumber(ARGV[3]) then
        return 0
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
