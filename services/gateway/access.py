"""Who may call a route at all (CONTRACT §2), decided from the caller, the path and the
body before the owning service is asked; the service then decides on the records involved.
Built on the shared rules of services/common/contract/principals.py, as each service's
access.py is; none is restated here."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from services.common.contract.principals import (
    Principal,
    acts_for_department,
    reads_everything,
)

# A rule sees the caller, the path values and the validated body (or None) and says yes or no.
Rule = Callable[[Principal, Mapping, object], bool]


def admin_only(principal: Principal, path: Mapping, body) -> bool:
    return principal.is_admin


def anyone(principal: Principal, path: Mapping, body) -> bool:
    return True


def inspector(principal: Principal, path: Mapping, body) -> bool:
    """Inspection teams and the county."""
    return reads_everything(principal)


def department_in_path(principal: Principal, path: Mapping, body) -> bool:
    """The department the path's `code` names, or the county."""
    return acts_for_department(principal, path.get("code"))


def department_in_body(principal: Principal, path: Mapping, body) -> bool:
    """The department the body's `department_code` names, or the county."""
    return acts_for_department(principal, getattr(body, "department_code", None))


def any_of(*rules: Rule) -> Rule:
    def rule(principal, path, body):
        return any(r(principal, path, body) for r in rules)
    return rule
