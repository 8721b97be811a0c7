"""Every township's feed is filled here: one notification per event about one of its villages,
stored with its message for the township's AMQP queue and one delivery per webhook that wants
it, in one step (so none of it is lost or made twice)."""
from __future__ import annotations

import json

from services.common.contract.events import Envelope, utc_now
from services.common.messaging.outbox import outbox_entry
from services.common.messaging.topology import NOTIFICATIONS
from services.common.use_cases import Directory
from services.common.values.ids import new_id
from services.notifications import domain
from services.notifications.store import NotificationsStore
from services.notifications.titles import Names

DIRECTORY_CONSUMER = "notifications.directory"


def apply_directory_event(store: NotificationsStore, body: dict) -> bool:
    """Keep a township, village or department's record for the titles; an older revision never
    replaces a newer one. True when it was applied."""
    return store.directory.apply(Envelope.model_validate(body))


def _name(directory: Directory, kind: str, code: str | None) -> str | None:
    """The record's name, or its code while the directory does not know it."""
    if code is None:
        return None
    record = directory(kind, code)
    return record["name"] if record else code


def notify_township(store: NotificationsStore, directory: Directory, body: dict) -> bool:
    """The notification of an event for the township whose village it concerns; False when the
    event is about no village, or was notified before (the id is derived from the event)."""
    envelope = Envelope.model_validate(body)
    if envelope.township_code is None:
        return False  # not about a village: no township to tell
    names = Names(village=_name(directory, "village", envelope.village_code) or "",
                  department=_name(directory, "department",
                                   envelope.data.get("department_code")))
    notification = domain.notification_of(envelope, names)
    message = outbox_entry(NOTIFICATIONS.name, domain.routing_key(notification),
                           notification["id"],
                           json.dumps(domain.public_notification(notification),
                                      ensure_ascii=False),
                           notification["type"])
    now = utc_now()
    deliveries = [domain.new_delivery(new_id("dlv"), webhook["id"], notification["id"], now)
                  for webhook in store.webhooks(envelope.township_code)
                  if domain.wants(webhook, envelope.type)]
    return store.deliver(notification, message, deliveries)
