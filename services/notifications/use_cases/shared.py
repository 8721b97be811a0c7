"""What the use cases share: the township whose feed a caller reads or changes (`access.py`
decides; its code checked as every service checks one, `problems.valid_code`)."""
from __future__ import annotations

from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, valid_code
from services.notifications import access


def feed_to_read(actor: str, township_code: str) -> str:
    """The township whose feed `actor` reads: 403 unless they may, 422 for a bad code."""
    principal = Principal.parse(actor)
    if not access.reads_feed(principal, township_code):
        raise forbidden(principal, f"read the feed of township {township_code}")
    return valid_code("township", township_code, ["path", "code"])


def feed_to_change(actor: str, township_code: str) -> str:
    """The township whose feed `actor` changes: 403 unless they may, 422 for a bad code."""
    principal = Principal.parse(actor)
    if not access.changes_feed(principal, township_code):
        raise forbidden(principal, f"change the feed of township {township_code}")
    return valid_code("township", township_code, ["path", "code"])
