"""Who may call a route at all (CONTRACT §2), decided from the caller, the path and the
body before the owning service is asked; the service then decides on the records involved."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from services.common.contract.principals import Principal

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


def any_of(*rules: Rule) -> Rule:
    def rule(principal, path, body):
        return any(r(principal, path, body) for r in rules)
    return rule
