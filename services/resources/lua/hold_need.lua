-- Count a commitment against a need before the department's pool is touched: the need is
-- never over-committed (committed <= requested), whatever the number of departments
-- committing to it at once. The commitment must be for the need's village, kind and unit.
-- The hold is keyed by commitment, so repeating it changes nothing. Village hash slot.
-- KEYS: 1 needs hash, 2 need counters hash, 3 holds hash (hold -> hundredths)
-- ARGV: 1 need id, 2 the hold (store.need_hold: the need's and the commitment's ids),
--       3 amount (hundredths), 4 kind, 5 unit, 6 village
-- A refusal for want of room answers the need's counters as stored (requested, committed);
-- what it lacks of them is domain.lacking.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'unknown-need'} end
local need = cjson.decode(raw)
if need['village_code'] ~= ARGV[6] then return {'need-elsewhere', need['village_code']} end
if need['kind'] ~= ARGV[4] or need['unit'] ~= ARGV[5] then
    return {'need-mismatch', need['kind'], need['unit']}
end
local hold = ARGV[2]
if redis.call('HEXISTS', KEYS[3], hold) == 1 then return {'ok'} end
local requested = redis.call('HGET', KEYS[2], ARGV[1] .. ':requested')
local committed = redis.call('HGET', KEYS[2], ARGV[1] .. ':committed')
if tonumber(committed) + tonumber(ARGV[3]) > tonumber(requested) then
    return {'overcommitted', requested, committed}
end
redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':committed', ARGV[3])
redis.call('HSET', KEYS[3], hold, ARGV[3])
return {'ok'}
