"""The notifications service's use cases, plain functions over the store (`store.py`) and what
else they need (a directory lookup, the secrets box, an HTTP sender), each passed in:

- `feed.py`: an event becomes its township's notification, with its AMQP message and one
  delivery per interested webhook; the directory the titles name villages from.
- `inbox.py`: reading a township's inbox (the live stream reads it too) and signing for a
  notification (签收).
- `webhooks.py`: a township's webhooks, made (idempotently), listed and removed.
- `deliveries.py`: a webhook's deliveries, a manual retry, and one attempt of the dispatcher.
- `operators.py`: the operators' view of every feed.

This layer is the one that turns the store's outcomes into problems (HTTP answers). Every use
case on a township's feed first asks `access.py` whether the caller may read or change it.
"""
from __future__ import annotations

from services.common.contract.codes import is_township_code
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, invalid
from services.notifications import access


def township_code_checked(code: str, loc: list) -> str:
    if not is_township_code(code):
        raise invalid("a township code is 9 digits", loc)
    return code


def feed_to_read(actor: str, township_code: str) -> str:
    """The township whose feed `actor` reads: 403 unless they may, 422 for a bad code."""
    principal = Principal.parse(actor)
    if not access.reads_feed(principal, township_code):
        raise forbidden(principal, f"read the feed of township {township_code}")
    return township_code_checked(township_code, ["path", "code"])


def feed_to_change(actor: str, township_code: str) -> str:
    """The township whose feed `actor` changes: 403 unless they may, 422 for a bad code."""
    principal = Principal.parse(actor)
    if not access.changes_feed(principal, township_code):
        raise forbidden(principal, f"change the feed of township {township_code}")
    return township_code_checked(township_code, ["path", "code"])
