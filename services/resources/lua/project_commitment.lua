-- Apply a commitment event to its village's view (who gives what where), exactly once per
-- event: totals per kind and unit and per department, and the village's indexes by status.
-- Village hash slot.
-- KEYS: 1 processed marker of this event, 2 village totals hash, 3 village index of all,
--       4 village index of the old status, 5 village index of the new status
-- ARGV: 1 marker ttl, 2 commitment id, 3 score, 4 totals field prefix (kind|unit),
--       5 department, 6 committed change, 7 delivered change, 8 confirmed change,
--       9 '1' when there is an old status index to leave
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', ARGV[1]) == false then return 0 end
local fields = {'committed', 'delivered', 'confirmed'}
for i, name in ipairs(fields) do
    local change = tonumber(ARGV[5 + i])
    if change ~= 0 then
        redis.call('HINCRBY', KEYS[2], ARGV[4] .. '|' .. name, change)
        redis.call('HINCRBY', KEYS[2], ARGV[4] .. '|' .. name .. '|' .. ARGV[5], change)
    end
end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
if ARGV[9] == '1' then redis.call('ZREM', KEYS[4], ARGV[2]) end
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[2])
return 1
