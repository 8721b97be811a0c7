"""Pool arithmetic, pure Python. The store's Lua scripts enforce the same rules atomically;
these functions state them once, for reading and for unit tests."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from services.common.values.quantities import from_hundredths, to_hundredths


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
        # Invariant: reserved + delivered <= pooled, so this is never negative.
        return self.pooled - self.reserved - self.delivered

    def can_reserve(self, amount: int) -> bool:
        return 0 < amount <= self.available

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
        "lacking": from_hundredths(max(requested - committed, 0)),
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


@dataclass(frozen=True)
class VillageTotalsChange:
    """How one commitment event changes its village's totals (hundredths)."""

    committed: int = 0
    delivered: int = 0
    confirmed: int = 0


def totals_change(event_type: str, commitment: dict) -> VillageTotalsChange:
    """`committed` counts what is promised and not yet delivered; `delivered` what arrived;
    `confirmed` what the township signed for."""
    quantity = to_hundredths(Decimal(commitment["quantity"]))
    delivered = to_hundredths(Decimal(commitment.get("delivered_quantity") or "0"))
    if event_type == "resources.commitment_created":
        return VillageTotalsChange(committed=quantity)
    if event_type == "resources.commitment_delivered":
        return VillageTotalsChange(committed=-quantity, delivered=delivered)
    if event_type == "resources.commitment_confirmed":
        return VillageTotalsChange(confirmed=delivered)
    if event_type == "resources.commitment_cancelled":
        return VillageTotalsChange(committed=-quantity)
    raise ValueError(f"not a commitment event: {event_type}")


NEXT_STATUS = {"deliver": ("committed", "delivered"), "confirm": ("delivered", "confirmed"),
               "cancel": ("committed", "cancelled")}
