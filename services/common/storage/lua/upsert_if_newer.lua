-- A directory projection's write: store the record only if it is newer than the one held
-- (projections receive events out of order), and mark the event (or the RPC fetch) done in
-- the same step, whether or not the record was stored.
-- KEYS: 1 the projection (code -> record JSON), 2 the marker (processed:<consumer>:<event_id>,
--       or the service's fetched marker)
-- ARGV: 1 the record's code, 2 the record JSON, 3 its revision, 4 the marker's TTL (s)
-- Returns 1 when stored; 0 when the held record's revision is as new or newer.
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
    local revision = cjson.decode(held)['revision']
    if revision and revision >= tonumber(ARGV[3]) then
        redis.call('SET', KEYS[2], 1, 'EX', ARGV[4])
        return 0
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], 1, 'EX', ARGV[4])
return 1
