"""The notifications service: every township's feed (上下联动) on every channel it uses.

The nameko adapter: its dependencies and entrypoints, each one call to a use case
(`use_cases/`). `actor` is the caller's principal as the gateway authenticated it.
"""
from __future__ import annotations

from services.common.messaging.event_handler import subscribe
from services.common.messaging.outbox import OutboxRelay
from services.common.messaging.rpc_client import BoundedRpcProxy
from services.common.messaging.rpc_server import rpc
from services.common.messaging.topology import DeclareTopology
from services.common.storage.redis_store import Store
from services.notifications.dispatcher import WebhookDispatcher
from services.notifications.store import NotificationsStore
from services.notifications.use_cases import deliveries, feed, inbox, operators, webhooks


class NotificationsService:
    name = "notifications"

    topology = DeclareTopology()
    store: NotificationsStore = Store(NotificationsStore)
    relay = OutboxRelay("notifications")
    dispatcher: WebhookDispatcher = WebhookDispatcher()
    assignment = BoundedRpcProxy("assignment")

    def directory_entry(self, kind: str, code: str) -> dict | None:
        """A township, village or department: this service's projection, else the owner's."""
        return self.store.directory.resolve(kind, code, self.assignment.directory_entry)

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    # --- the feed ----------------------------------------------------------------------------

    @subscribe(feed.DIRECTORY_CONSUMER)
    def on_directory_event(self, body: dict) -> None:
        feed.apply_directory_event(self.store, body)

    @subscribe("notifications.township-feed")
    def on_township_event(self, body: dict) -> None:
        feed.notify_township(self.store, self.directory_entry, body)

    # --- inbox -------------------------------------------------------------------------------

    @rpc
    def read_inbox(self, actor: str, township_code: str, after=None, limit=None,
                   unacked=False) -> dict:
        return inbox.read_inbox(self.store, actor, township_code, after, limit, unacked)

    @rpc
    def acknowledge(self, actor: str, township_code: str, notification_id: str) -> dict:
        return inbox.acknowledge(self.store, actor, township_code, notification_id)

    # --- webhooks ----------------------------------------------------------------------------

    @rpc
    def create_webhook(self, actor: str, township_code: str, body: dict,
                       idempotency_key: str | None = None) -> dict:
        return webhooks.create_webhook(self.store, self.dispatcher.box,
                                       self.dispatcher.allowed, actor, township_code, body,
                                       idempotency_key)

    @rpc
    def list_webhooks(self, actor: str, township_code: str) -> dict:
        return webhooks.list_webhooks(self.store, actor, township_code)

    @rpc
    def delete_webhook(self, actor: str, township_code: str, webhook_id: str) -> None:
        webhooks.delete_webhook(self.store, actor, township_code, webhook_id)

    @rpc
    def list_deliveries(self, actor: str, township_code: str, webhook_id: str, after=None,
                        limit=None) -> dict:
        return deliveries.list_deliveries(self.store, actor, township_code, webhook_id, after,
                                          limit)

    @rpc
    def retry_delivery(self, actor: str, township_code: str, webhook_id: str,
                       delivery_id: str) -> dict:
        return deliveries.retry_delivery(self.store, actor, township_code, webhook_id,
                                         delivery_id)

    # --- operators ---------------------------------------------------------------------------

    @rpc
    def feed_status(self, township: str | None = None) -> dict:
        return operators.feed_status(self.store, township)
