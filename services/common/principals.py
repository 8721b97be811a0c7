"""Who is calling (CONTRACT §2), and the access rules built from that. Pure Python."""
from __future__ import annotations

from collections.abc import Callable, Mapping
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


# A rule sees the caller, the path values and the validated body (or None) and says yes or no.
Rule = Callable[[Principal, Mapping, object], bool]


def admin_only(principal: Principal, path: Mapping, body) -> bool:
    return principal.is_admin


def anyone(principal: Principal, path: Mapping, body) -> bool:
    return True


def inspector(principal: Principal, path: Mapping, body) -> bool:
    return principal.is_admin or principal.kind == "inspector"


def department_in_path(name: str = "code") -> Rule:
    def rule(principal, path, body):
        return principal.is_admin or principal.is_department(path.get(name))
    return rule


def department_in_body(field: str = "department_code") -> Rule:
    def rule(principal, path, body):
        return principal.is_admin or principal.is_department(getattr(body, field, None))
    return rule


def township_in_path(name: str = "code") -> Rule:
    def rule(principal, path, body):
        return principal.is_admin or principal.is_township(path.get(name))
    return rule


def any_of(*rules: Rule) -> Rule:
    def rule(principal, path, body):
        return any(r(principal, path, body) for r in rules)
    return rule
