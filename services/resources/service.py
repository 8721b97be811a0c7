"""The resources service's nameko entrypoints: pools, needs, and the commitment lifecycle."""
from __future__ import annotations

import logging
from decimal import Decimal

from nameko.timer import timer

from services.common.contract import events
from services.common.contract.codes import is_department_code, is_village_code
from services.common.contract.events import Envelope, utc_now
from services.common.contract.http_bodies import (
    Cancellation,
    CommitmentRequest,
    Delivery,
    NeedIn,
    PoolAddition,
)
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import Problem, invalid, not_found, validated
from services.common.messaging.event_handler import subscribe
from services.common.messaging.ingress_consumer import IngressOutcome, raw_consumer
from services.common.messaging.outbox import OutboxRelay
from services.common.messaging.rpc_client import BoundedRpcProxy
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import INGRESS_COMMITMENTS, DeclareTopology
from services.common.storage.redis_store import Store
from services.common.values.fingerprints import request_fingerprint
from services.common.values.ids import new_id
from services.common.values.quantities import from_hundredths, to_hundredths
from services.resources.domain import NEXT_STATUS, totals_change
from services.resources.ingress import is_parked, parse_commitment
from services.resources.store import (
    ALL_COMMITMENTS,
    ResourcesStore,
    department_index,
    township_index,
    village_index,
)

log = logging.getLogger(__name__)

NEEDS_CHUNK = 200  # needs read from the ranking at a time while filtering by status or kind

LIFECYCLE_EVENTS = {
    "delivered": ("resources.commitment_delivered", events.CommitmentDelivered),
    "confirmed": ("resources.commitment_confirmed", events.CommitmentConfirmed),
    "cancelled": ("resources.commitment_cancelled", events.CommitmentCancelled),
}


def forbidden(principal: Principal, doing: str) -> Problem:
    return Problem(403, "forbidden", f"{principal} may not {doing}")


def reads_everything(principal: Principal) -> bool:
    return principal.is_admin or principal.kind == "inspector"


def sees_commitment(principal: Principal, commitment: dict) -> bool:
    return (reads_everything(principal)
            or principal.is_department(commitment["department_code"])
            or principal.is_township(commitment["township_code"]))


class ResourcesService:
    name = "resources"

    topology = DeclareTopology()
    store: ResourcesStore = Store(ResourcesStore)
    relay = OutboxRelay("resources")
    assignment = BoundedRpcProxy("assignment")

    @timer(interval=10)
    def sweep_need_holds(self) -> None:
        """Holds on needs left by a commitment that was never stored go back to the need."""
        given_back = self.store.sweep_pending_holds()
        if given_back:
            log.warning("gave back %d need hold(s) of commitments never stored", given_back)

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    # --- what this service keeps from events -------------------------------------------------

    @subscribe("resources.directory")
    def on_directory_event(self, body: dict) -> None:
        self.store.directory.apply(Envelope.model_validate(body), "resources.directory")

    @subscribe("resources.commitment-views")
    def on_commitment_event(self, body: dict) -> None:
        """A commitment's step, applied to its village's totals and to the need it serves."""
        envelope = Envelope.model_validate(body)
        commitment = envelope.data
        previous = {"resources.commitment_created": None,
                    "resources.commitment_delivered": "committed",
                    "resources.commitment_confirmed": "delivered",
                    "resources.commitment_cancelled": "committed"}[envelope.type]
        self.store.project_commitment(envelope, previous,
                                      totals_change(envelope.type, commitment))
        need_id = commitment.get("need_id")
        if need_id and envelope.type == "resources.commitment_delivered":
            delivered = to_hundredths(Decimal(commitment["delivered_quantity"]))
            self.store.settle_need_hold(need_id, commitment["id"], delivered, delivered)
        elif need_id and envelope.type == "resources.commitment_cancelled":
            self.store.settle_need_hold(need_id, commitment["id"], 0, 0)

    @raw_consumer(INGRESS_COMMITMENTS)
    def on_department_message(self, body: bytes, properties: dict) -> IngressOutcome:
        """A commitment published by a department system to `guabang.ingress`; its
        `message_id` is the Idempotency-Key."""
        try:
            _, request = parse_commitment(body, properties)
            result = self.commit_resources(request, properties.get("message_id"))
        except Problem as problem:
            if problem.status >= 500:
                raise  # a service it needs is away: the message goes back and is tried again
            return IngressOutcome(problem.status, problem.to_dict(),
                                  park_reason=problem.detail if is_parked(problem) else None)
        return IngressOutcome(201, result["commitment"])

    # --- lookups -----------------------------------------------------------------------------

    def _directory(self, kind: str, code: str) -> dict | None:
        return self.store.directory.resolve(kind, code, self.assignment.directory_entry)

    def _require_department(self, code: str) -> dict:
        if not is_department_code(code):
            raise invalid("a department code matches ^[a-z][a-z0-9-]{1,31}$", ["path", "code"])
        department = self._directory("department", code)
        if department is None:
            raise not_found("department", code)
        return department

    def _village(self, code: str, loc: list) -> dict:
        village = self._directory("village", code) if is_village_code(code) else None
        if village is None:
            raise invalid(f"village {code} is not registered", loc, type="unknown-village")
        return village

    # --- pools -------------------------------------------------------------------------------

    @rpc
    def add_to_pool(self, department_code: str, body: dict,
                    idempotency_key: str | None = None) -> dict:
        """Returns {"item": pool item, "replayed": bool}."""
        self._require_department(department_code)
        addition = validated(PoolAddition, body)
        event = events.make_event(
            "resources.pool_increased",
            events.PoolIncreased(department_code=department_code, kind=addition.kind,
                                 unit=addition.unit, quantity=addition.quantity,
                                 note=addition.note),
        )
        item, replayed = self.store.add_to_pool(
            department_code, addition.kind, addition.unit, to_hundredths(addition.amount), event,
            request_fingerprint(body), idempotency_key,
        )
        return {"item": item, "replayed": replayed}

    @rpc
    def get_pool(self, department_code: str) -> dict:
        self._require_department(department_code)
        return {"items": self.store.pool(department_code)}

    # --- commitments -------------------------------------------------------------------------

    @rpc
    def commit_resources(self, body: dict, idempotency_key: str | None = None) -> dict:
        """Reserve from the department's pool for a village; {"commitment", "replayed"}."""
        request = validated(CommitmentRequest, body)
        if self._directory("department", request.department_code) is None:
            raise invalid(f"department {request.department_code} is not registered",
                          ["body", "department_code"], type="unknown-department")
        village = self._village(request.village_code, ["body", "village_code"])
        commitment = {
            "id": new_id("cmt"),
            "status": "committed",
            "department_code": request.department_code,
            "village_code": request.village_code,
            "township_code": village["township_code"],
            "kind": request.kind,
            "unit": request.unit,
            "quantity": request.quantity,
            "need_id": request.need_id,
            "note": request.note,
            "created_at": utc_now(),
        }
        event = events.make_event(
            "resources.commitment_created",
            events.CommitmentCreated(**commitment),
            township_code=village["township_code"],
            village_code=request.village_code,
        )
        stored, replayed = self.store.commit(commitment, to_hundredths(request.amount), event,
                                             request_fingerprint(body), idempotency_key)
        return {"commitment": stored, "replayed": replayed}

    def _commitment_for(self, principal: Principal, commitment_id: str) -> dict:
        commitment = self.store.commitment(commitment_id)
        if commitment is None or not sees_commitment(principal, commitment):
            if commitment is None:
                raise not_found("commitment", commitment_id)
            raise forbidden(principal, "read this commitment")
        return commitment

    @rpc
    def get_commitment(self, actor: str, commitment_id: str) -> dict:
        return self._commitment_for(Principal.parse(actor), commitment_id)

    def _move(self, principal: Principal, commitment: dict, step: str, changes: dict,
              reserved_change: int, delivered_change: int) -> dict:
        from_status, new_status = NEXT_STATUS[step]
        moved = {**commitment, **changes, "status": new_status}
        event_type, model = LIFECYCLE_EVENTS[new_status]
        event = events.make_event(event_type, model(**moved),
                                  township_code=commitment["township_code"],
                                  village_code=commitment["village_code"])
        return self.store.move_commitment(commitment, from_status, moved, event,
                                          reserved_change, delivered_change)

    @rpc
    def deliver(self, actor: str, commitment_id: str, body: dict) -> dict:
        """The department delivered: all it committed, or less (the rest goes back to its
        pool)."""
        principal = Principal.parse(actor)
        request = validated(Delivery, body)
        commitment = self._commitment_for(principal, commitment_id)
        if not (principal.is_admin or principal.is_department(commitment["department_code"])):
            raise forbidden(principal, "deliver this commitment")
        committed = to_hundredths(Decimal(commitment["quantity"]))
        delivered = to_hundredths(Decimal(request.quantity)) if request.quantity else committed
        if delivered > committed:
            raise invalid(f"delivered {request.quantity} is more than the "
                          f"{commitment['quantity']} committed", ["body", "quantity"])
        return self._move(principal, commitment, "deliver", {
            "delivered_quantity": from_hundredths(delivered),
            "released": from_hundredths(committed - delivered),
            "delivered_at": utc_now(),
        }, reserved_change=-committed, delivered_change=delivered)

    @rpc
    def confirm(self, actor: str, commitment_id: str) -> dict:
        """The township's receipt (签收) of a delivery to one of its villages."""
        principal = Principal.parse(actor)
        commitment = self._commitment_for(principal, commitment_id)
        if not (principal.is_admin or principal.is_township(commitment["township_code"])):
            raise forbidden(principal, "confirm this delivery; its township does")
        return self._move(principal, commitment, "confirm", {
            "confirmed_at": utc_now(), "confirmed_by": actor,
        }, reserved_change=0, delivered_change=0)

    @rpc
    def cancel(self, actor: str, commitment_id: str, body: dict) -> dict:
        principal = Principal.parse(actor)
        request = validated(Cancellation, body)
        commitment = self._commitment_for(principal, commitment_id)
        if not (principal.is_admin or principal.is_department(commitment["department_code"])):
            raise forbidden(principal, "cancel this commitment")
        return self._move(principal, commitment, "cancel", {
            "cancelled_at": utc_now(), "cancel_reason": request.reason,
        }, reserved_change=-to_hundredths(Decimal(commitment["quantity"])), delivered_change=0)

    @rpc
    def list_commitments(self, actor: str, village: str | None = None,
                         department: str | None = None, status: str | None = None,
                         after=None, limit=None) -> dict:
        principal = Principal.parse(actor)
        limit = parse_limit(limit)
        if status not in (None, "", "committed", "delivered", "confirmed", "cancelled"):
            raise invalid("status is committed, delivered, confirmed or cancelled",
                          ["query", "status"])
        if principal.kind == "department":
            if department not in (None, principal.code):
                raise forbidden(principal, f"list the commitments of {department}")
            department = principal.code
        elif principal.kind == "township":
            if village is not None and not village.startswith(principal.code):
                raise forbidden(principal, "list another township's commitments")
        elif not reads_everything(principal):
            raise forbidden(principal, "list commitments")
        if department:
            index = department_index(department, status or "all")
        elif village:
            index = village_index(village, status or "all")
        elif principal.kind == "township":
            index = township_index(principal.code)
        else:
            index = ALL_COMMITMENTS
        items, next_cursor = self.store.commitments(index, after, limit)
        wanted = [c for c in items
                  if (not village or c["village_code"] == village)
                  and (not status or c["status"] == status)
                  and sees_commitment(principal, c)]
        return page(wanted, next_cursor)

    @rpc
    def village_resources(self, actor: str, village_code: str) -> dict:
        """Who gives what where: per kind and unit, committed, delivered and confirmed, and
        the departments behind each."""
        principal = Principal.parse(actor)
        village = self._directory("village", village_code)
        if village is None:
            raise not_found("village", village_code)
        if principal.kind == "township" and not principal.is_township(village["township_code"]):
            raise forbidden(principal, "read another township's villages")
        lines: dict[tuple[str, str], dict] = {}
        for field, value in self.store.village_totals(village_code).items():
            kind, unit, measure, *department = field.split("|")
            line = lines.setdefault((kind, unit), {
                "kind": kind, "unit": unit, "committed": "0.00", "delivered": "0.00",
                "confirmed": "0.00", "departments": {}})
            if department:
                line["departments"].setdefault(department[0], {
                    "committed": "0.00", "delivered": "0.00", "confirmed": "0.00",
                })[measure] = from_hundredths(value)
            else:
                line[measure] = from_hundredths(value)
        return {"village_code": village_code,
                "items": [lines[key] for key in sorted(lines)]}

    # --- needs -------------------------------------------------------------------------------

    @rpc
    def raise_need(self, actor: str, village_code: str, body: dict,
                   idempotency_key: str | None = None) -> dict:
        principal = Principal.parse(actor)
        village = self._directory("village", village_code)
        if village is None:
            raise not_found("village", village_code)
        if not (principal.is_admin or principal.is_township(village["township_code"])):
            raise forbidden(principal, f"raise needs for {village_code}; its township does")
        request = validated(NeedIn, body)
        need = {"id": new_id("need"), "village_code": village_code,
                "township_code": village["township_code"], "hardship": village["hardship"],
                "kind": request.kind, "unit": request.unit, "category": request.category,
                "purpose": request.purpose, "raised_by": actor, "created_at": utc_now()}
        event = events.make_event("resources.need_raised", events.NeedRaised(
            **{k: need[k] for k in events.NeedRaised.model_fields if k in need},
            requested=request.quantity),
            township_code=village["township_code"], village_code=village_code)
        need_id, replayed = self.store.raise_need(
            need, to_hundredths(request.amount), event, request_fingerprint(body),
            idempotency_key, scope=actor)
        return {"need": self.store.need(need_id), "replayed": replayed}

    @rpc
    def list_needs(self, actor: str, status: str | None = "open", township: str | None = None,
                   kind: str | None = None, after=None, limit=None) -> dict:
        """Hardest first: village hardship, then the share still uncovered, then oldest."""
        principal = Principal.parse(actor)
        limit = parse_limit(limit)
        if principal.kind == "township":
            if township not in (None, principal.code):
                raise forbidden(principal, "read another township's needs")
            township = principal.code
        status = status or "open"
        if status not in ("open", "covered", "fulfilled", "unfulfilled"):
            raise invalid("status is open, covered or unfulfilled (open or covered)",
                          ["query", "status"])
        if status == "fulfilled":
            raise invalid("fulfilled needs are read per village: "
                          "GET /v1/villages/{code}/needs", ["query", "status"])
        start = 0
        if after:
            rank = self.store.need_rank(township, after)
            start = rank + 1 if rank is not None else 0
        wanted, scanned, size = [], start, limit + 1  # one more tells whether there is a next
        while len(wanted) <= limit:
            chunk = self.store.ranked_needs(township, scanned, size)
            if not chunk:
                break
            scanned += size
            size = NEEDS_CHUNK  # what filters left out is made up in larger reads
            wanted += [n for n in chunk
                       if (status == "unfulfilled" or n["status"] == status)
                       and (kind is None or n["kind"] == kind)]
        items = wanted[:limit]
        return page(items, items[-1]["id"] if len(wanted) > limit else None)

    @rpc
    def village_needs(self, actor: str, village_code: str) -> dict:
        principal = Principal.parse(actor)
        village = self._directory("village", village_code)
        if village is None:
            raise not_found("village", village_code)
        if principal.kind == "township" and not principal.is_township(village["township_code"]):
            raise forbidden(principal, "read another township's needs")
        return {"items": self.store.needs_of_village(village_code), "next": None}
