"""A township's inbox: read in a stable order (the live stream reads it the same way), and
signed for (签收) once."""
from __future__ import annotations

from services.common.contract.events import utc_now
from services.common.contract.paging import page, parse_limit
from services.common.contract.problems import invalid, not_found
from services.notifications import domain
from services.notifications.store import NotificationsStore
from services.notifications.use_cases.shared import feed_to_change, feed_to_read


def read_inbox(store: NotificationsStore, actor: str, township_code: str, after=None,
               limit=None, unacked: bool = False) -> dict:
    """A page of the township's notifications after the cursor `after`; `unacked`: only those
    not yet signed for."""
    township = feed_to_read(actor, township_code)
    try:
        cursor = domain.parse_cursor(after)
    except domain.BadCursor:
        raise invalid("after must be a cursor returned by this list",
                      ["query", "after"]) from None
    items, next_cursor = store.inbox(township, cursor, parse_limit(limit),
                                     unacked_only=bool(unacked))
    return page(items, next_cursor)


def acknowledge(store: NotificationsStore, actor: str, township_code: str,
                notification_id: str) -> dict:
    """Sign for a notification: the first receipt stands, a repeat answers with it."""
    township = feed_to_change(actor, township_code)
    acked = store.ack(township, notification_id, {"acked_at": utc_now(), "acked_by": actor})
    if acked.name == "not-found":
        raise not_found("notification", notification_id)
    return acked.record
