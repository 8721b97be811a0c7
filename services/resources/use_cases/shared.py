"""What the use cases share: the record (or the problem its absence is) a request names, looked
up in the directory (`services/common/use_cases.Directory`), and a unit the pool refuses. A
create's answer is `services/common/use_cases.created`."""
from __future__ import annotations

from services.common.contract.codes import DEPARTMENT_PATTERN, is_department_code
from services.common.contract.problems import invalid, not_found
from services.common.use_cases import Directory


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

