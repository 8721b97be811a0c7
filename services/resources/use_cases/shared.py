"""What the use cases share: the record (or the problem its absence is) a request names, looked
up in the directory (`services/common/use_cases.Directory`), and a unit the pool refuses. A
create's answer is `services/common/use_cases.created`."""
from __future__ import annotations

from collections.abc import Callable

from services.common.contract.paging import page
from services.common.contract.principals import Principal
from services.common.contract.problems import (
    forbidden,
    invalid,
    not_found,
    record_for,
    valid_code,
)
from services.common.use_cases import Directory
from services.resources import access
from services.resources.store import ResourcesStore


def department_in_path(directory: Directory, code: str) -> dict:
    department = directory("department", valid_code("department", code, ["path", "code"]))
    if department is None:
        raise not_found("department", code)
    return department


def village_in_path(directory: Directory, principal: Principal, code: str) -> dict:
    """A village a path names: 404 when not registered. Another township's is refused on its
    code before it is looked up, so the 403 is the same whether it exists or not."""
    if not access.reads_village(principal, code):
        raise forbidden(principal, "reach another township's villages")
    village = directory("village", code)
    if village is None:
        raise not_found("village", code)
    return village


def commitment(store: ResourcesStore, principal: Principal, commitment_id: str,
               may: Callable[[Principal, dict], bool] | None = None, doing: str = "") -> dict:
    """The commitment an id names, if the caller may do with it what it asks (by default, read
    it): one it may not see is answered as an unknown id is (`record_for`)."""
    return record_for(principal, store.commitment(commitment_id),
                      not_found("commitment", commitment_id), access.sees_commitment, may, doing)


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


CHUNK = 200  # ids read at a time, after the first page's worth, while filtering


def fill_page(read: Callable[[int, int], tuple[int, list[dict]]], start: int,
              wanted: Callable[[dict], bool], limit: int) -> dict:
    """The first `limit` records from position `start` of an index that are `wanted`; `next`
    is the last of them when more follow. `read(start, count)` answers how many positions it
    read (fewer than `count`: the index ends there) and the records they hold."""
    found, size = [], limit + 1  # one more tells whether there is a next page
    while len(found) <= limit:
        scanned, records = read(start, size)
        start += scanned
        found += [r for r in records if wanted(r)]
        if scanned < size:
            break
        size = CHUNK  # what the filters left out is made up in larger reads
    items = found[:limit]
    return page(items, items[-1]["id"] if len(found) > limit else None)


def unit_mismatch(kind: str, held_unit: str):
    return invalid(f"this department counts {kind} in {held_unit!r}; use that unit",
                   ["body", "unit"], type="unit-mismatch")

