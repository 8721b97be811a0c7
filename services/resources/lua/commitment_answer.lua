-- The one home of the rule of a repeated commitment request: a repeat with the same key and
-- body gets the commitment stored under the key's remembered id (never a new one), the same
-- key with another body is refused. Included by commit.lua (atomically, with the reservation)
-- and earlier_commitment.lua (before the need is held: a repeat holds nothing). Department
-- hash slot.
--! include idempotent_requests

-- nil when the request is new (or carries no key, or its commitment is not stored);
-- {'reused'}; or {'replay', the commitment as stored (JSON)}.
local function earlier_commitment(key, fingerprint, given, commitments)
    local earlier = earlier_answer(key, fingerprint, given)
    if earlier == 'reused' then return {'reused'} end
    if earlier then
        local stored = redis.call('HGET', commitments, earlier['id'])
        if stored then return {'replay', stored} end
    end
    return nil
end
