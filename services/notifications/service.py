"""The notifications service: every township's feed (上下联动) on every channel it uses."""
from __future__ import annotations

import hashlib
import json

from services.common.contract.codes import is_township_code
from services.common.contract.events import Envelope, utc_now
from services.common.contract.http_bodies import WebhookIn
from services.common.contract.paging import page, parse_limit
from services.common.contract.problems import (
    conflict,
    idempotency_key_reused,
    invalid,
    not_found,
    validated,
)
from services.common.messaging.event_handler import subscribe
from services.common.messaging.outbox import OutboxRelay, outbox_entry
from services.common.messaging.rpc_client import BoundedRpcProxy
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import NOTIFICATIONS, TOWNSHIP_FEED_EVENTS, DeclareTopology
from services.common.storage.redis_store import Store
from services.common.values.fingerprints import request_fingerprint
from services.common.values.ids import new_id
from services.notifications import targets, webhooks
from services.notifications.dispatcher import WebhookDispatcher, public_notification
from services.notifications.store import NotificationsStore
from services.notifications.titles import Names, render


def notification_id(event_id: str, township_code: str) -> str:
    """Derived, not random: the same event for the same township is the same notification."""
    digest = hashlib.sha256(f"{event_id}|{township_code}".encode()).hexdigest()
    return f"ntf_{digest[:26]}"


def routing_key(notification: dict) -> str:
    """`township.<code>.<type>`: a township binds `township.<code>.#` (CONTRACT §5)."""
    return f"township.{notification['township_code']}.{notification['type']}"


def wants(webhook: dict, event_type: str) -> bool:
    return webhook["status"] == "active" and ("*" in webhook["types"]
                                              or event_type in webhook["types"])


def public_webhook(webhook: dict) -> dict:
    return {key: value for key, value in webhook.items() if key != "secret_sealed"}


def feed_status(store: NotificationsStore, township: str | None = None) -> list[dict]:
    """Per township: notifications not yet signed for, and webhooks that are failing (an
    operator's view; `guabang notifications status` prints it too)."""
    items = []
    for code in [township] if township else store.townships():
        hooks = [public_webhook(w) for w in store.webhooks(code)]
        items.append({"township_code": code, "unacked": store.unacked_count(code),
                      "webhooks": hooks,
                      "failing_webhooks": sum(1 for w in hooks if w["status"] != "active"
                                              or w.get("consecutive_failures", 0) > 0)})
    return items


def _parse_cursor(after) -> int | None:
    if after in (None, ""):
        return None
    try:
        return int(after)
    except (TypeError, ValueError):
        raise invalid("after must be a cursor returned by this list",
                      ["query", "after"]) from None


def _township(code: str) -> str:
    if not is_township_code(code):
        raise invalid("a township code is 9 digits", ["path", "code"])
    return code


class NotificationsService:
    name = "notifications"

    topology = DeclareTopology()
    store: NotificationsStore = Store(NotificationsStore)
    relay = OutboxRelay("notifications")
    dispatcher: WebhookDispatcher = WebhookDispatcher()
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
        """One notification per event for the township whose village it concerns, stored with
        its AMQP message and one delivery per interested webhook, in one step."""
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
        notification = {
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
        }
        message = outbox_entry(NOTIFICATIONS.name, routing_key(notification), notification["id"],
                               json.dumps(public_notification(notification), ensure_ascii=False),
                               notification["type"])
        now = utc_now()
        deliveries = [
            {"id": new_id("dlv"), "webhook_id": webhook["id"],
             "notification_id": notification["id"], "status": "pending", "attempts_made": 0,
             "created_at": now, "next_attempt_at": now}
            for webhook in self.store.webhooks(township_code) if wants(webhook, envelope.type)
        ]
        self.store.deliver(notification, message, deliveries)

    # --- inbox -------------------------------------------------------------------------------

    @rpc
    def inbox(self, township_code: str, after=None, limit=None, unacked=False) -> dict:
        items, next_cursor = self.store.inbox(_township(township_code), _parse_cursor(after),
                                              parse_limit(limit), unacked_only=bool(unacked))
        return page(items, next_cursor)

    @rpc
    def ack(self, actor: str, township_code: str, notification_id: str) -> dict:
        acked = self.store.ack(_township(township_code), notification_id, actor)
        if acked is None:
            raise not_found("notification", notification_id)
        return acked

    # --- webhooks ----------------------------------------------------------------------------

    @rpc
    def create_webhook(self, township_code: str, body: dict, actor: str = "admin",
                       idempotency_key: str | None = None) -> dict:
        """{"webhook": the webhook with its secret, "replayed": bool}."""
        request = validated(WebhookIn, body)
        unknown = set(request.types) - {"*", *TOWNSHIP_FEED_EVENTS}
        if unknown:
            raise invalid(f"unknown notification types: {', '.join(sorted(unknown))}; use "
                          f'["*"] or some of: {", ".join(TOWNSHIP_FEED_EVENTS)}',
                          ["body", "types"])
        refused = targets.refusal(request.url, self.dispatcher.allowed)
        if refused:
            raise invalid(refused, ["body", "url"], type="webhook-url-refused")
        secret = webhooks.new_secret()
        webhook = {"id": new_id("whk"), "url": request.url, "types": request.types,
                   "status": "active", "created_at": utc_now(), "consecutive_failures": 0,
                   "last_error": None, "last_success_at": None, "disabled_at": None,
                   "disabled_reason": None, "secret_sealed": self.dispatcher.box.seal(secret)}
        stored, replayed = self.store.save_webhook(
            _township(township_code), webhook, request_fingerprint(body),
            f"{actor}:{idempotency_key}" if idempotency_key else None)
        if stored is None:
            raise idempotency_key_reused()
        secret = self.dispatcher.box.open(stored["secret_sealed"])  # the first one, if replayed
        return {"webhook": {**public_webhook(stored), "secret": secret}, "replayed": replayed}

    @rpc
    def list_webhooks(self, township_code: str) -> dict:
        return {"items": [public_webhook(w) for w in self.store.webhooks(
            _township(township_code))], "next": None}

    @rpc
    def delete_webhook(self, township_code: str, webhook_id: str) -> None:
        if not self.store.delete_webhook(_township(township_code), webhook_id):
            raise not_found("webhook", webhook_id)

    def _webhook(self, township_code: str, webhook_id: str) -> dict:
        webhook = self.store.webhook(_township(township_code), webhook_id)
        if webhook is None:
            raise not_found("webhook", webhook_id)
        return webhook

    @rpc
    def deliveries(self, township_code: str, webhook_id: str, after=None, limit=None) -> dict:
        self._webhook(township_code, webhook_id)
        found = self.store.deliveries(township_code, webhook_id)
        limit = parse_limit(limit)
        start = 0
        if after:
            ids = [d["id"] for d in found]
            start = ids.index(after) + 1 if after in ids else 0
        chunk = found[start:start + limit]
        return page(chunk, chunk[-1]["id"] if start + limit < len(found) and chunk else None)

    @rpc
    def retry_delivery(self, township_code: str, webhook_id: str, delivery_id: str) -> dict:
        webhook = self._webhook(township_code, webhook_id)
        delivery = self.store.delivery(township_code, delivery_id)
        if delivery is None or delivery["webhook_id"] != webhook_id:
            raise not_found("delivery", delivery_id)
        if webhook["status"] != "active":
            raise conflict("webhook-disabled", f"webhook {webhook_id} is disabled "
                                               f"({webhook.get('disabled_reason')}); make a "
                                               "new one to receive deliveries again")
        if delivery["status"] == "pending":
            raise conflict("delivery-pending", f"delivery {delivery_id} is already waiting "
                                               f"for its next attempt")
        delivery.update(status="pending", next_attempt_at=utc_now())
        self.store.schedule_now(township_code, delivery)
        return {**delivery, "attempts": self.store.attempts(township_code, delivery_id)}

    # --- operators ---------------------------------------------------------------------------

    @rpc
    def feed_status(self, township: str | None = None) -> dict:
        return {"items": feed_status(self.store, _township(township) if township else None),
                "next": None}


