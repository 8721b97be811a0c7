-- The one home of the Idempotency-Key rule (CONTRACT §1): a repeat with the same key and body
-- gets the first answer; the same key with another body is refused. Included by every script
-- that creates something on a client's request (a first line `--! include idempotent_requests`).
-- A request is three ARGV the Python side makes (IdempotentRequest.args): the body's
-- fingerprint, how long the answer is kept (s), and '1' when a key was given; its Redis key
-- is one of the script's KEYS. A script passes each function the ones it takes.

-- nil when the request is new (or carries no key); 'reused' when the key came with another
-- body; otherwise the table `remember_answer` stored.
local function earlier_answer(key, fingerprint, given)
    if given ~= '1' then return nil end
    local held = redis.call('GET', key)
    if not held then return nil end
    local answer = cjson.decode(held)
    if answer['fingerprint'] ~= fingerprint then return 'reused' end
    return answer
end

-- Keep `answer` (a table of strings, usually {id = ...}) under the key, with the fingerprint.
local function remember_answer(key, fingerprint, ttl, given, answer)
    if given ~= '1' then return end
    answer['fingerprint'] = fingerprint
    redis.call('SET', key, cjson.encode(answer), 'EX', ttl)
end
