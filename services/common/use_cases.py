"""What every service's use cases share (each service's own are in its `use_cases/shared.py`):
the directory lookup they are given, and the answer of a create from its store's outcome."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.common.contract.problems import idempotency_key_reused
from services.common.storage.outcomes import OK, REPLAY, REUSED, Outcome

# (kind, code) -> the directory's record of a "township", "village" or "department", or None.
# A service's is its projection of the directory, else the assignment service's answer
# (`DirectoryProjection.resolve`): the service's `directory_entry`.
Directory = Callable[[str, str], "dict | None"]


def created(outcome: Outcome) -> tuple[Any, bool]:
    """(record, replayed) of a create the store made (`ok`) or answered before (`replay`); a
    reused Idempotency-Key is refused (409). The use case maps its other refusals first."""
    if outcome.name == REUSED:
        raise idempotency_key_reused()
    if outcome.name not in (OK, REPLAY):
        raise ValueError(f"a create came to {outcome.name!r}, which its use case did not map")
    return outcome.record, outcome.replayed
