"""Who may read and change a township's feed (CONTRACT §2): the shared rules of
`contract/principals.py`, applied to feeds. The use cases ask these before anything else, so a
caller who may not see a feed learns nothing about it (not even whether an id exists).

The operators' view of every feed (`/v1/admin/feeds`) is the county's alone: the gateway
admits only admin to it.
"""
from __future__ import annotations

from services.common.contract.principals import Principal, acts_for_township, reads_township


def reads_feed(principal: Principal, township_code: str) -> bool:
    """The inbox, the live stream, the webhooks and their deliveries: the township's own,
    admin's and the inspectors'."""
    return reads_township(principal, township_code)


def changes_feed(principal: Principal, township_code: str) -> bool:
    """Receipts (签收), webhooks made and removed, deliveries retried: the township itself or
    admin; inspectors only read."""
    return acts_for_township(principal, township_code)
