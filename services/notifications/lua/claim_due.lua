-- Claim up to ARGV[3] webhook deliveries that are due, for ARGV[2] ms: a claimed delivery
-- becomes due again if its worker dies before recording the attempt, so none is lost.
-- KEYS: 1 due deliveries (zset by time)
-- ARGV: 1 now (ms), 2 lease (ms), 3 how many
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), member)
end
return due
