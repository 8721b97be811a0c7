"""Reading commitments: one, a page of them, and a village's totals (who gives what where)."""
from __future__ import annotations

from services.common.contract.paging import parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, invalid
from services.common.use_cases import Directory
from services.resources import access
from services.resources.domain import STATUSES, resource_lines
from services.resources.store import ResourcesStore
from services.resources.use_cases import shared


def get_commitment(store: ResourcesStore, actor: str, commitment_id: str) -> dict:
    """The commitment, if the caller may see it; one who may not gets the answer an unknown
    id gets, so another township's (or department's) ids cannot be told from made-up ones."""
    return shared.commitment(store, Principal.parse(actor), commitment_id)


def list_commitments(store: ResourcesStore, actor: str, village: str | None = None,
                     department: str | None = None, status: str | None = None,
                     after: str | None = None, limit=None) -> dict:
    """Oldest first. Every filter applies before the page is cut, so a page and its `next`
    hold only commitments the caller may see and asked for."""
    principal = Principal.parse(actor)
    limit = parse_limit(limit)
    village, department, status = village or None, department or None, status or None
    if status not in (None, *STATUSES):
        raise invalid(f"status is {', '.join(STATUSES[:-1])} or {STATUSES[-1]}",
                      ["query", "status"])
    if not access.lists_commitments(principal, village, department):
        raise forbidden(principal, "list these commitments")
    if principal.kind == "department":
        department = principal.code
    if principal.kind == "township":
        # its own village's index, or its own township's: by department too, never the
        # department's county-wide list
        index = (store.commitment_index(village=village, status=status) if village
                 else store.commitment_index(township=principal.code))
    else:
        index = store.commitment_index(department=department, village=village, status=status)

    def wanted(commitment: dict) -> bool:
        return ((village is None or commitment["village_code"] == village)
                and (status is None or commitment["status"] == status)
                and access.sees_commitment(principal, commitment))

    def read(start: int, count: int) -> tuple[int, list[dict]]:
        ids = store.commitment_ids(index, start, count)
        return len(ids), store.commitments(ids, department)

    return shared.fill_page(read, store.position_after(index, after), wanted, limit)


def village_resources(store: ResourcesStore, directory: Directory, actor: str,
                      village_code: str) -> dict:
    """Who gives what where: per kind and unit, committed, delivered and confirmed, and the
    departments behind each."""
    shared.village_in_path(directory, Principal.parse(actor), village_code)
    return {"village_code": village_code,
            "items": resource_lines(store.village_totals(village_code))}
