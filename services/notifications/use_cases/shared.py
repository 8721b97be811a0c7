"""What the use cases share: the township whose feed a caller reads or changes (`access.py`
decides; its code checked as every service checks one, `problems.valid_code`)."""
from __future__ import annotations

from collections.abc import Callable

from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, valid_code
from services.notifications import access


def _feed(actor: str, township_code: str, may: Callable[[Principal, str], bool],
          doing: str) -> str:
    """The township whose feed `actor` is `doing` something to: 403 unless `may`, 422 for a
    bad code."""
    principal = Principal.parse(actor)
    if not may(principal, township_code):
        raise forbidden(principal, f"{doing} the feed of township {township_code}")
    return valid_code("township", township_code, ["path", "code"])


def feed_to_read(actor: str, township_code: str) -> str:
    """The township whose feed `actor` reads."""
    return _feed(actor, township_code, access.reads_feed, "read")


def feed_to_change(actor: str, township_code: str) -> str:
    """The township whose feed `actor` changes."""
    return _feed(actor, township_code, access.changes_feed, "change")
