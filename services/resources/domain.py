"""The rules of pools, needs and commitments, pure Python: what the numbers mean, how needs
rank, and the commitment lifecycle with what each of its steps changes.

The atomic invariants are the Lua scripts' (lua/): reserved + delivered <= pooled
(commit.lua), a need is never over-committed (hold_need.lua), a lifecycle only moves forward
(move_commitment.lua). Nothing here checks them again; this module says what a balance, a
need and a step come to.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from services.common.contract import events
from services.common.values.quantities import from_hundredths, to_hundredths

# --- pools -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolBalance:
    """One department's stock of one kind, in hundredths of its unit."""

    kind: str
    unit: str
    pooled: int = 0
    reserved: int = 0
    delivered: int = 0

    @property
    def available(self) -> int:
        """What can still be committed (commit.lua keeps reserved + delivered <= pooled)."""
        return self.pooled - self.reserved - self.delivered

    def as_dict(self, department_code: str) -> dict:
        return {
            "department_code": department_code,
            "kind": self.kind,
            "unit": self.unit,
            "pooled": from_hundredths(self.pooled),
            "reserved": from_hundredths(self.reserved),
            "delivered": from_hundredths(self.delivered),
            "available": from_hundredths(self.available),
        }


# --- needs -----------------------------------------------------------------------------------

def lacking(requested: int, committed: int) -> int:
    """What a need still lacks: the part of it no commitment covers (hold_need.lua refuses a
    commitment larger than this)."""
    return max(requested - committed, 0)


def need_status(requested: int, committed: int, delivered: int) -> str:
    """Derived, never stored: open until fully committed, covered, then fulfilled."""
    if delivered >= requested:
        return "fulfilled"
    if committed >= requested:
        return "covered"
    return "open"


def need_view(need: dict, requested: int, committed: int, delivered: int) -> dict:
    return {
        **need,
        "status": need_status(requested, committed, delivered),
        "requested": from_hundredths(requested),
        "committed": from_hundredths(committed),
        "delivered": from_hundredths(delivered),
        "lacking": from_hundredths(lacking(requested, committed)),
    }


RANKING_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def ranking_score(need: dict) -> float:
    """GET /v1/needs ranks by this score, highest first: village hardship, then the share of
    the need still uncovered (in thousandths), then age (older first). It is kept in a sorted
    set, so reading the hardest needs costs the same however many needs there are."""
    requested = Decimal(need["requested"])
    uncovered = Decimal(need["lacking"]) / requested if requested else Decimal(0)
    created = datetime.fromisoformat(need["created_at"].replace("Z", "+00:00"))
    age_rank = 999_999_999 - int((created - RANKING_EPOCH).total_seconds())
    return need["hardship"] * 1e12 + int(uncovered * 1000) * 1e9 + age_rank


# --- the commitment lifecycle ----------------------------------------------------------------


class Step(NamedTuple):
    """One step of a commitment's life: from which status (None: it begins), to which, and
    the event that announces it."""

    name: str
    from_status: str | None
    to_status: str
    event_type: str
    event_model: type[events.EventData]


# The lifecycle, said once: everything else about it (the statuses, what a step requires,
# the message of a refused step, where a projection takes a commitment from) is read here.
LIFECYCLE = (
    Step("commit", None, "committed", "resources.commitment_created",
         events.CommitmentCreated),
    Step("deliver", "committed", "delivered", "resources.commitment_delivered",
         events.CommitmentDelivered),
    Step("confirm", "delivered", "confirmed", "resources.commitment_confirmed",
         events.CommitmentConfirmed),
    Step("cancel", "committed", "cancelled", "resources.commitment_cancelled",
         events.CommitmentCancelled),
)
STEPS = {step.name: step for step in LIFECYCLE}
STEP_OF_EVENT = {step.event_type: step for step in LIFECYCLE}
STATUSES = tuple(dict.fromkeys(step.to_status for step in LIFECYCLE))
FIRST_STATUS = STEPS["commit"].to_status


def _paths(status: str) -> list[list[str]]:
    onward = [step.to_status for step in LIFECYCLE if step.from_status == status]
    return [[status, *rest] for to in onward for rest in _paths(to)] or [[status]]


# "committed → delivered → confirmed, or committed → cancelled"
FORWARD_PATHS = ", or ".join(" → ".join(path) for path in _paths(FIRST_STATUS))


def pool_change(step: Step, commitment: dict, delivered: int = 0) -> tuple[int, int]:
    """How a step changes its department's pool: (change of reserved, change of delivered),
    in hundredths. A delivery of less than committed gives the rest back."""
    committed = to_hundredths(Decimal(commitment["quantity"]))
    if step.name == "deliver":
        return -committed, delivered
    if step.name == "cancel":
        return -committed, 0
    return 0, 0


@dataclass(frozen=True)
class VillageTotalsChange:
    """How one commitment event changes its village's totals (hundredths)."""

    committed: int = 0
    delivered: int = 0
    confirmed: int = 0


def step_of_event(event_type: str) -> Step:
    step = STEP_OF_EVENT.get(event_type)
    if step is None:
        raise ValueError(f"not a commitment event: {event_type}")
    return step


def totals_change(event_type: str, commitment: dict) -> VillageTotalsChange:
    """How a commitment event changes its village's totals: `committed` counts what is
    promised and not yet delivered; `delivered` what arrived; `confirmed` what the township
    signed for."""
    step = step_of_event(event_type)
    quantity = to_hundredths(Decimal(commitment["quantity"]))
    delivered = to_hundredths(Decimal(commitment.get("delivered_quantity") or "0"))
    return {
        "commit": VillageTotalsChange(committed=quantity),
        "deliver": VillageTotalsChange(committed=-quantity, delivered=delivered),
        "confirm": VillageTotalsChange(confirmed=delivered),
        "cancel": VillageTotalsChange(committed=-quantity),
    }[step.name]


def need_hold_after(event_type: str, commitment: dict) -> tuple[int, int] | None:
    """What a commitment holds of its need after the step an event announces, and what that
    step delivered to it (hundredths); None when the step leaves the hold as it is."""
    step = step_of_event(event_type)
    if step.name == "deliver":
        delivered = to_hundredths(Decimal(commitment["delivered_quantity"]))
        return delivered, delivered
    if step.name == "cancel":
        return 0, 0
    return None


def resource_lines(totals: dict[str, str]) -> list[dict]:
    """A village's totals (fields `kind|unit|measure` and `kind|unit|measure|department`) as
    lines per kind and unit, each with the departments behind it."""
    lines: dict[tuple[str, str], dict] = {}
    for field, value in totals.items():
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
    return [lines[key] for key in sorted(lines)]
