"""What the use cases share: the directory they look departments and villages up in, and
the record (or the problem its absence is) a request names."""
from __future__ import annotations

from collections.abc import Callable

from services.common.contract.codes import DEPARTMENT_PATTERN, is_department_code
from services.common.contract.problems import idempotency_key_reused, invalid, not_found
from services.resources.store import Outcome

# (kind, code) -> the directory's record ("township", "village" or "department"), or None.
# The service's is its projection of the directory, falling back to the assignment service.
Directory = Callable[[str, str], "dict | None"]


def department_in_path(directory: Directory, code: str) -> dict:
    if not is_department_code(code):
        raise invalid(f"a department code matches {DEPARTMENT_PATTERN}", ["path", "code"])
    department = directory("department", code)
    if department is None:
        raise not_found("department", code)
    return department


def village_in_path(directory: Directory, code: str) -> dict:
    """A village a path names: 404 when not registered."""
    village = directory("village", code)
    if village is None:
        raise not_found("village", code)
    return village


def department_in_body(directory: Directory, code: str) -> dict:
    """A department a request body names: one not registered is the request's fault (422)."""
    department = directory("department", code)
    if department is None:
        raise invalid(f"department {code} is not registered", ["body", "department_code"],
                      type="unknown-department")
    return department


def village_in_body(directory: Directory, code: str) -> dict:
    """A village a request body names (a code the body's model checked)."""
    village = directory("village", code)
    if village is None:
        raise invalid(f"village {code} is not registered", ["body", "village_code"],
                      type="unknown-village")
    return village


def unit_mismatch(kind: str, held_unit: str):
    return invalid(f"this department counts {kind} in {held_unit!r}; use that unit",
                   ["body", "unit"], type="unit-mismatch")


def created(outcome: Outcome) -> tuple[object, bool]:
    """(what was stored, replayed) of a create the store stored or replayed; a reused key is
    refused."""
    if outcome.name == "reused":
        raise idempotency_key_reused()
    return outcome.value, outcome.name == "replay"
