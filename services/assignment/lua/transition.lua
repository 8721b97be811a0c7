-- Move a record from one status to the next, only forward: the status is checked, and the new
-- record, its event and its index changes stored, in one step. Resolves problems and files
-- inspection reports (whose absent cadres count against their assignments).
-- KEYS: 1 records hash, 2 outbox, 3 absences hash, 4.. indexes: first ARGV[6] to add the
--       record to, the rest to remove it from
-- ARGV: 1 id, 2 expected status, 3 new record JSON, 4 event JSON, 5 score for added indexes,
--       6 how many indexes to add to, 7.. assignment ids to count an absence against
-- Reply: {name, record JSON or false, detail or false} (store._answer reads it by position)
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return {'not-found', false, false} end
if cjson.decode(held)['status'] ~= ARGV[2] then return {'wrong-status', held, false} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
local adding = tonumber(ARGV[6])
for i = 4, #KEYS do
    if i < 4 + adding then
        redis.call('ZADD', KEYS[i], ARGV[5], ARGV[1])
    else
        redis.call('ZREM', KEYS[i], ARGV[1])
    end
end
for i = 7, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
return {'ok', ARGV[3], false}
