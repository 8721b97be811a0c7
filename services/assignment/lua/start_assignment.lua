-- Start an assignment if the cadre has no active assignment with overlapping dates and, for a
-- leader or first secretary, the village has no active one in that role with overlapping
-- dates (a village has one leader and one first secretary at a time; members are any number).
-- The checks and the write are one step, so concurrent requests cannot both win.
-- KEYS: 1 assignments hash, 2 cadre's active set, 3 village's active set, 4 cadre's history,
--       5 village's history, 6 idempotency key, 7 outbox
-- ARGV: 1 id, 2 assignment JSON, 3 role, 4 starts_on, 5 ends_on, 6 event JSON, 7 score,
--       8-10 the request
-- Reply: {name, record JSON or false, detail or false} (store._answer reads it by position)
--! include idempotent_requests
local earlier = earlier_answer(KEYS[6], ARGV[8], ARGV[10])
if earlier == 'reused' then return {'reused', false, false} end
if earlier then return {'replay', redis.call('HGET', KEYS[1], earlier['id']), false} end
local function overlapping(other)
    return other['starts_on'] <= ARGV[5] and ARGV[4] <= other['ends_on']
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    local other = cjson.decode(redis.call('HGET', KEYS[1], id))
    if overlapping(other) then return {'cadre-already-assigned', false, id} end
end
if ARGV[3] ~= 'member' then
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
        local other = cjson.decode(redis.call('HGET', KEYS[1], id))
        if other['role'] == ARGV[3] and overlapping(other) then return {'role-taken', false, id} end
    end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[7], ARGV[1])
redis.call('RPUSH', KEYS[7], ARGV[6])
remember_answer(KEYS[6], ARGV[8], ARGV[9], ARGV[10], {id = ARGV[1]})
return {'ok', ARGV[2], false}
