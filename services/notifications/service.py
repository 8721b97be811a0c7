"""The notifications service's nameko entrypoints."""
from __future__ import annotations

import hashlib

from services.common.codes import is_township_code
from services.common.consumer import subscribe
from services.common.events import Envelope
from services.common.lists import page, parse_limit
from services.common.outbox import OutboxRelay
from services.common.problems import invalid
from services.common.redis_provider import Store
from services.common.rpc import BoundedRpcProxy
from services.common.service_kit import DeclareTopology, rpc
from services.notifications.store import NotificationsStore
from services.notifications.titles import Names, render


def notification_id(event_id: str, township_code: str) -> str:
    """Derived, not random: the same event for the same township is the same notification."""
    digest = hashlib.sha256(f"{event_id}|{township_code}".encode()).hexdigest()
    return f"ntf_{digest[:26]}"


def _parse_cursor(after) -> int | None:
    if after in (None, ""):
        return None
    try:
        return int(after)
    except (TypeError, ValueError):
        raise invalid("after must be a cursor returned as `next` by this list",
                      ["query", "after"]) from None


class NotificationsService:
    name = "notifications"

    topology = DeclareTopology()
    store: NotificationsStore = Store(NotificationsStore)
    relay = OutboxRelay("notifications")
    assignment = BoundedRpcProxy("assignment")

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    @subscribe("notifications.directory")
    def on_directory_event(self, body: dict) -> None:
        self.store.directory.apply(Envelope.model_validate(body), "notifications.directory")

    def _name(self, kind: str, code: str | None) -> str | None:
        if code is None:
            return None
        record = self.store.directory.resolve(kind, code, self.assignment.directory_entry)
        return record["name"] if record else code

    @subscribe("notifications.township-feed")
    def on_township_event(self, body: dict) -> None:
        """One inbox item per event for the township whose village it concerns."""
        envelope = Envelope.model_validate(body)
        township_code = envelope.township_code
        if township_code is None:
            return  # not about a village: no township to tell
        data = envelope.data
        names = Names(
            village=self._name("village", envelope.village_code) or "",
            township=self._name("township", township_code) or township_code,
            department=self._name("department", data.get("department_code")),
        )
        title_zh, title_en = render(envelope.type, data, names)
        self.store.deliver({
            "id": notification_id(envelope.event_id, township_code),
            "event_id": envelope.event_id,
            "type": envelope.type,
            "township_code": township_code,
            "village_code": envelope.village_code,
            "occurred_at": envelope.occurred_at,
            "title_zh": title_zh,
            "title_en": title_en,
            "data": data,
            "acked_at": None,
        })

    @rpc
    def inbox(self, township_code: str, after=None, limit=None, unacked=False) -> dict:
        if not is_township_code(township_code):
            raise invalid("a township code is 9 digits", ["path", "code"])
        items, next_cursor = self.store.inbox(township_code, _parse_cursor(after),
                                              parse_limit(limit), unacked_only=bool(unacked))
        return page(items, next_cursor)
