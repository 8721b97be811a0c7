-- End an active assignment, keeping it in history. When it was the village's last active
-- leader, also store the event that flags the village as leaderless to its township.
-- KEYS: 1 assignments hash, 2 cadre's active set, 3 village's active set, 4 outbox
-- ARGV: 1 id, 2 ended assignment JSON, 3 ended event JSON, 4 leaderless event JSON ('' if
--       the assignment is not a leader's), 5 today (a successor booked for later does not
--       lead the village today)
-- Reply: {name, record JSON or false, detail or false} (store._answer reads it by position)
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return {'not-found', false, false} end
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 0 then return {'not-active', held, false} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('RPUSH', KEYS[4], ARGV[3])
if ARGV[4] ~= '' then
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
        local other = cjson.decode(redis.call('HGET', KEYS[1], id))
        if other['role'] == 'leader' and other['starts_on'] <= ARGV[5]
                and ARGV[5] <= other['ends_on'] then
            return {'ok', ARGV[2], false}
        end
    end
    redis.call('RPUSH', KEYS[4], ARGV[4])
    return {'ok-leaderless', ARGV[2], false}
end
return {'ok', ARGV[2], false}
