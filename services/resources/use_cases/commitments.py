"""Commitments and their lifecycle: a department commits from its pool to a village (and to
one of its needs), delivers or cancels; the village's township confirms the delivery."""
from __future__ import annotations

from decimal import Decimal

from services.common.contract import events
from services.common.contract.events import utc_now
from services.common.contract.http_bodies import Cancellation, CommitmentRequest, Delivery
from services.common.contract.principals import Principal
from services.common.contract.problems import (
    Problem,
    conflict,
    forbidden,
    invalid,
    not_found,
    unavailable,
    validated,
)
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import Outcome
from services.common.use_cases import Directory, created
from services.common.values.ids import new_id
from services.common.values.quantities import from_hundredths, to_hundredths
from services.resources import access
from services.resources.domain import (
    FIRST_STATUS,
    FORWARD_PATHS,
    STEPS,
    lacking,
    pool_change,
)
from services.resources.store import ResourcesStore
from services.resources.use_cases import shared


def commit_resources(store: ResourcesStore, directory: Directory, actor: str, body: dict,
                     idempotency_key: str | None = None) -> dict:
    """Reserve from the department's pool for a village; {"commitment", "replayed"}. `actor`
    is the caller over HTTP, or over AMQP the department whose broker account sent it
    (`ingress.receive_commitment`): one rule for both (`access.acts_on_pool`)."""
    principal = Principal.parse(actor)
    request = validated(CommitmentRequest, body)
    if not access.acts_on_pool(principal, request.department_code):
        raise forbidden(principal, f"commit from the pool of {request.department_code}")
    shared.department_in_body(directory, request.department_code)
    village = shared.village_in_body(directory, request.village_code)
    step = STEPS["commit"]
    commitment = {
        "id": new_id("cmt"),
        "status": FIRST_STATUS,
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
    event = events.make_event(step.event_type, step.event_model(**commitment),
                              township_code=village["township_code"],
                              village_code=request.village_code)
    outcome = store.commit(commitment, to_hundredths(request.amount), event,
                           IdempotentRequest.of(body, idempotency_key))
    refusal = _refusal(outcome, commitment)
    if refusal is not None:
        raise refusal
    stored, replayed = created(outcome)
    return {"commitment": stored, "replayed": replayed}


def _refusal(outcome: Outcome, commitment: dict) -> Problem | None:
    """The problem a refused commitment is (None: stored, replayed, or a reused key)."""
    need_id, kind, unit = commitment["need_id"], commitment["kind"], commitment["unit"]
    if outcome.name == "unit-mismatch":
        return shared.unit_mismatch(kind, outcome.detail)
    if outcome.name == "insufficient":
        available = from_hundredths(outcome.detail.available)
        return conflict("insufficient-pool",
                        f"{commitment['department_code']} has {available} {unit} of {kind} "
                        f"available, less than the {commitment['quantity']} asked",
                        available=available)
    if outcome.name == "unknown-need":
        return invalid(f"need {need_id} does not exist", ["body", "need_id"],
                       type="unknown-need")
    if outcome.name == "need-elsewhere":
        return invalid(f"need {need_id} is a need of village {outcome.detail}",
                       ["body", "need_id"], type="need-mismatch")
    if outcome.name == "need-mismatch":
        need_kind, need_unit = outcome.detail
        return invalid(f"need {need_id} is for {need_kind} counted in {need_unit}",
                       ["body", "kind"], type="need-mismatch")
    if outcome.name == "hold-expired":
        # this process stalled between holding the need and reserving: the hold may be given
        # back by now, so nothing was stored; a retry holds the need afresh
        return unavailable(f"the commitment to need {need_id} took too long to store; retry "
                           "with the same Idempotency-Key")
    if outcome.name == "overcommitted":
        still = from_hundredths(lacking(*outcome.detail))
        return conflict("need-overcommitted",
                        f"need {need_id} still lacks {still} {unit}, less than the "
                        f"{commitment['quantity']} offered", lacking=still)
    return None


def _move(store: ResourcesStore, commitment: dict, step_name: str, changes: dict,
          delivered: int = 0) -> dict:
    """Take the commitment one step forward, with its event and its pool's settlement."""
    step = STEPS[step_name]
    moved = {**commitment, **changes, "status": step.to_status}
    event = events.make_event(step.event_type, step.event_model(**moved),
                              township_code=commitment["township_code"],
                              village_code=commitment["village_code"])
    reserved_change, delivered_change = pool_change(step, commitment, delivered)
    outcome = store.move_commitment(commitment, step.from_status, moved, event,
                                    reserved_change, delivered_change)
    if outcome.name == "not-found":
        raise not_found("commitment", commitment["id"])
    if outcome.name == "wrong-status":
        now = outcome.record["status"]
        raise conflict(f"commitment-not-{step.from_status}",
                       f"commitment {commitment['id']} is {now}; lifecycles only move "
                       f"forward ({FORWARD_PATHS})", current_status=now)
    return outcome.record


def deliver(store: ResourcesStore, actor: str, commitment_id: str, body: dict) -> dict:
    """The department delivered: all it committed, or less (the rest goes back to its pool)."""
    principal = Principal.parse(actor)
    request = validated(Delivery, body)
    commitment = shared.commitment(store, principal, commitment_id,
                                   access.settles_commitment, "deliver this commitment")
    committed = to_hundredths(Decimal(commitment["quantity"]))
    delivered = to_hundredths(Decimal(request.quantity)) if request.quantity else committed
    if delivered > committed:
        raise invalid(f"delivered {request.quantity} is more than the "
                      f"{commitment['quantity']} committed", ["body", "quantity"])
    return _move(store, commitment, "deliver", {
        "delivered_quantity": from_hundredths(delivered),
        "released": from_hundredths(committed - delivered),
        "delivered_at": utc_now(),
    }, delivered)


def confirm(store: ResourcesStore, actor: str, commitment_id: str) -> dict:
    """The township's receipt (签收) of a delivery to one of its villages."""
    principal = Principal.parse(actor)
    commitment = shared.commitment(store, principal, commitment_id,
                                   access.confirms_delivery,
                                   "confirm this delivery; its township does")
    return _move(store, commitment, "confirm", {"confirmed_at": utc_now(),
                                                "confirmed_by": actor})


def cancel(store: ResourcesStore, actor: str, commitment_id: str, body: dict) -> dict:
    principal = Principal.parse(actor)
    request = validated(Cancellation, body)
    commitment = shared.commitment(store, principal, commitment_id,
                                   access.settles_commitment, "cancel this commitment")
    return _move(store, commitment, "cancel", {"cancelled_at": utc_now(),
                                               "cancel_reason": request.reason})
