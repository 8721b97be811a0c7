"""Who may see and do what with pools, needs and commitments (CONTRACT §2), decided on the
records involved: pure functions of a principal and records, built on the shared rules of
services/common/contract/principals.py. The use cases raise the problems, the same for a
request over HTTP and a department system's message over AMQP (the gateway checks nothing).

A commitment is seen by its department, by its village's township and by those who read
everything; whoever may not see one gets the very answer an unknown id gets
(`problems.record_for`).
"""
from __future__ import annotations

from services.common.contract.codes import township_of_village_code
from services.common.contract.principals import (
    Principal,
    acts_for_department,
    acts_for_township,
    reads_everything,
    reads_township,
    reads_unless_another_township,
)


def sees_commitment(principal: Principal, commitment: dict) -> bool:
    return (principal.is_department(commitment["department_code"])
            or reads_township(principal, commitment["township_code"]))


def settles_commitment(principal: Principal, commitment: dict) -> bool:
    """Deliver or cancel: the commitment's department (or the county)."""
    return acts_for_department(principal, commitment["department_code"])


def confirms_delivery(principal: Principal, commitment: dict) -> bool:
    """The receipt (签收) is the township's, for a delivery to one of its villages."""
    return acts_for_township(principal, commitment["township_code"])


def lists_commitments(principal: Principal, village: str | None,
                      department: str | None) -> bool:
    """A department lists its own commitments, a township those to its own villages (by
    department too), and the county and inspectors any."""
    if principal.kind == "department":
        return department in (None, principal.code)
    if principal.kind == "township":
        return village is None or reads_township(principal, township_of_village_code(village))
    return reads_everything(principal)


def reads_village(principal: Principal, village_code: str) -> bool:
    """A village's needs and resources: any caller but another township; decided on the code
    (its first nine digits are its township's), so before the village is looked up."""
    return reads_unless_another_township(principal, township_of_village_code(village_code))


def reads_needs_of(principal: Principal, township: str | None) -> bool:
    """The ranked needs: a township reads only its own (None: the whole county's)."""
    if township is None:  # the whole county's: not a township's to read
        return principal.kind != "township"
    return reads_unless_another_township(principal, township)


def raises_need(principal: Principal, village: dict) -> bool:
    return acts_for_township(principal, village["township_code"])


def acts_on_pool(principal: Principal, department_code: str) -> bool:
    """Add to a department's pool and commit from it: the department (over HTTP, or over AMQP
    from its broker account) or the county; a department never for another."""
    return acts_for_department(principal, department_code)


def reads_pool(principal: Principal, department_code: str) -> bool:
    """A pool is read by its department and by those who read everything."""
    return acts_on_pool(principal, department_code) or reads_everything(principal)
