"""What a store's write came to: the one shape every service's store answers in.

A Lua script answers `{name, ...}`; its store turns that into an `Outcome` and the use cases
turn the outcome into an answer or a problem (`services/common/use_cases.py` has `created`,
the answer of a create). A store never raises a problem itself.
"""
from __future__ import annotations

from typing import Any, NamedTuple

OK = "ok"  # done as asked
REPLAY = "replay"  # an Idempotency-Key's first answer, given again (idempotent_requests.lua)
REUSED = "reused"  # the Idempotency-Key came with another body: nothing done


class Outcome(NamedTuple):
    """`name`: OK, REPLAY, REUSED or the script's own refusal (`not-found`, `wrong-status`,
    `insufficient`, ...; each store method lists its own). `record`: the record the write
    concerns, as stored (made, replayed, or held when a refusal says how it is). `detail`:
    what a refusal needs to say why (the id in the way, the unit a pool counts in, ...)."""

    name: str
    record: Any = None
    detail: Any = None

    @property
    def replayed(self) -> bool:
        return self.name == REPLAY
