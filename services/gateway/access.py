"""Who may call a route at all (CONTRACT §2), decided before the owning service is asked: the
operators' routes are the county's (admin) alone, every other route is open to any key. Who may
do what with which record is the owning service's rule, in its `access.py` (built on the shared
rules of services/common/contract/principals.py), decided once on the records; none is
checked here as well."""
from __future__ import annotations

from collections.abc import Callable

from services.common.contract.principals import Principal

# A rule sees the caller and says yes or no.
Rule = Callable[[Principal], bool]


def admin_only(principal: Principal) -> bool:
    return principal.is_admin


def anyone(principal: Principal) -> bool:
    return True
