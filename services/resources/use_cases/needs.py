"""Villages' needs: a township raises them, everyone reads them hardest first."""
from __future__ import annotations

from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import NEED_STATUSES, NeedIn
from services.common.contract.paging import parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, invalid, validated
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.use_cases import Directory, created
from services.common.values.ids import new_id
from services.common.values.quantities import to_hundredths
from services.resources import access
from services.resources.store import ResourcesStore
from services.resources.use_cases import shared


def raise_need(store: ResourcesStore, directory: Directory, actor: str, village_code: str,
               body: dict, idempotency_key: str | None = None) -> dict:
    """{"need", "replayed"}; an Idempotency-Key repeats for the same caller in the same
    village."""
    principal = Principal.parse(actor)
    village = shared.village_in_path(directory, principal, village_code)
    if not access.raises_need(principal, village):
        raise forbidden(principal, f"raise needs for {village_code}; its township does")
    request = validated(NeedIn, body)
    need = {"id": new_id("need"), "village_code": village_code,
            "township_code": village["township_code"], "hardship": village["hardship"],
            "kind": request.kind, "unit": request.unit, "category": request.category,
            "purpose": request.purpose, "raised_by": actor, "created_at": utc_now()}
    event = events.make_event("resources.need_raised",
                              events.NeedRaised.of(need, requested=request.quantity),
        township_code=village["township_code"], village_code=village_code)
    stored, replayed = created(store.raise_need(
        need, to_hundredths(request.amount), event,
        IdempotentRequest.of(body, idempotency_key), scope=actor))
    return {"need": stored, "replayed": replayed}


def list_needs(store: ResourcesStore, actor: str, status: str | None = "open",
               township: str | None = None, kind: str | None = None, after: str | None = None,
               limit=None) -> dict:
    """Hardest first: village hardship, then the share still uncovered, then oldest."""
    principal = Principal.parse(actor)
    limit = parse_limit(limit)
    if principal.kind == "township" and township is None:
        township = principal.code
    if not access.reads_needs_of(principal, township):
        raise forbidden(principal, "read another township's needs")
    status = status or "open"
    if status not in (*NEED_STATUSES, "unfulfilled"):
        raise invalid("status is open, covered or unfulfilled (open or covered)",
                      ["query", "status"])
    if status == "fulfilled":
        raise invalid("fulfilled needs are read per village: "
                      "GET /v1/villages/{code}/needs", ["query", "status"])

    def wanted(need: dict) -> bool:
        return ((need["status"] == status
                 or status == "unfulfilled" and need["status"] != "fulfilled")
                and (kind is None or need["kind"] == kind))

    def read(start: int, count: int) -> tuple[int, list[dict]]:
        ids = store.ranked_need_ids(township, start, count)
        return len(ids), store.needs(ids)

    start = store.position_after(store.need_ranking(township), after, highest_first=True)
    return shared.fill_page(read, start, wanted, limit)


def village_needs(store: ResourcesStore, directory: Directory, actor: str,
                  village_code: str) -> dict:
    """A village's needs, whatever their status."""
    shared.village_in_path(directory, Principal.parse(actor), village_code)
    return {"items": store.needs_of_village(village_code), "next": None}
