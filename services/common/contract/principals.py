"""Who is calling (CONTRACT §2): a principal parsed from the key's owner. Pure Python."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    kind: str  # admin | department | township | inspector
    code: str | None = None

    @classmethod
    def parse(cls, text: str) -> Principal:
        if text == "admin":
            return cls("admin")
        kind, _, code = text.partition(":")
        return cls(kind, code)

    def __str__(self) -> str:
        return self.kind if self.code is None else f"{self.kind}:{self.code}"

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    def is_department(self, code: str | None) -> bool:
        return self.kind == "department" and self.code == code

    def is_township(self, code: str | None) -> bool:
        return self.kind == "township" and self.code == code


# The rules every service builds its access on, each said once (CONTRACT §2). A service's
# `access.py` combines them with its own records; the gateway's `access.py` with a route's path.

def reads_everything(principal: Principal) -> bool:
    """The county (admin) and inspection teams read every township's records."""
    return principal.is_admin or principal.kind == "inspector"


def reads_township(principal: Principal, township_code: str | None) -> bool:
    """A township reads only its own villages' records; admin and inspectors read all."""
    return reads_everything(principal) or principal.is_township(township_code)


def reads_unless_another_township(principal: Principal, township_code: str | None) -> bool:
    """Records open to every key (the directory, a village's needs and resources), but a
    township's key reads only its own township's."""
    return principal.kind != "township" or reads_township(principal, township_code)


def acts_for_township(principal: Principal, township_code: str | None) -> bool:
    """Changes a township's records (acknowledge, resolve, confirm receipt, webhooks): the
    township itself or the county; inspectors only read."""
    return principal.is_admin or principal.is_township(township_code)


def acts_for_department(principal: Principal, department_code: str | None) -> bool:
    """Changes a department's records (pool, commitments, cadres): the department or the
    county."""
    return principal.is_admin or principal.is_department(department_code)
