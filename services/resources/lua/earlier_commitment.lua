-- Whether a commitment request was answered before under its Idempotency-Key, asked before
-- its need is held: a repeat gets the first commitment even when the need is full by now,
-- and holds nothing. commit.lua asks again, atomically, before it reserves (the rule is
-- commitment_answer.lua's). Department hash slot.
-- KEYS: 1 idempotency key, 2 commitments hash
-- ARGV: 1-3 the request
--! include commitment_answer
return earlier_commitment(KEYS[1], ARGV[1], ARGV[3], KEYS[2]) or {'new'}
