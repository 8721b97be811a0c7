"""The operators' view of every township's feed (`GET /v1/admin/feeds`, and `guabang
notifications status`)."""
from __future__ import annotations

from services.common.contract.paging import page
from services.common.contract.problems import valid_code
from services.notifications import domain
from services.notifications.store import NotificationsStore


def feed_status(store: NotificationsStore, township: str | None = None) -> dict:
    """Per township (or only `township`): notifications not yet signed for, its webhooks, and
    how many are failing."""
    codes = ([valid_code("township", township, ["query", "township"])] if township
             else store.townships())
    items = []
    for code in codes:
        hooks = [domain.public_webhook(w) for w in store.webhooks(code)]
        items.append({"township_code": code, "unacked": store.unacked_count(code),
                      "webhooks": hooks,
                      "failing_webhooks": sum(1 for w in hooks if domain.is_failing(w))})
    return page(items, None)
