"""Pool arithmetic, pure Python. The store's Lua scripts enforce the same rules atomically;
these functions state them once, for reading and for unit tests."""
from __future__ import annotations

from dataclasses import dataclass

from services.common.quantities import from_hundredths


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
