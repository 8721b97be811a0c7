-- Where a notification sits: the id index (`notifications:ids`) maps a notification id to
-- "<township>|<seq>", its township and its place in that township's inbox. The one place
-- that form is written (deliver.lua) and read (ack.lua, attempt_context.lua).
local function inbox_position(township, seq)
    return township .. '|' .. seq
end

-- township, seq of a stored position
local function position_parts(position)
    return string.match(position, '^(%d+)|(%d+)$')
end
