"""Routes of every township's feed: inbox and receipts, the live stream, webhooks, and the
operators' view. Mixed into the gateway.

Who may read or change a township's feed is the notifications service's to decide
(services/notifications/access.py): these routes pass the caller on. Only the operators' view
is closed here, to admin."""
from __future__ import annotations

import json
import time

import eventlet
from werkzeug.wrappers import Response

from services.common.contract.http_bodies import (
    Notification,
    TownshipFeedStatus,
    Webhook,
    WebhookDelivery,
    WebhookIn,
    page_of,
)
from services.common.contract.problems import Problem
from services.gateway import access
from services.gateway.http import PAGING, Call, bearer_token, replayable, route

KEEP_ALIVE = 10.0  # seconds between comments that keep proxies from closing an idle stream
POLL = 0.5  # seconds between looks for new notifications when there were none


def sse_event(item: dict) -> str:
    """One notification as a server-sent event; its id is the resume cursor."""
    data = json.dumps({k: v for k, v in item.items() if k != "cursor"}, ensure_ascii=False)
    return f"id: {item['cursor']}\nevent: {item['type']}\ndata: {data}\n\n"


class NotificationsRoutes:
    @route("GET", "/v1/townships/<code>/notifications", "Read a township's inbox",
           allow=access.anyone, response=page_of(Notification), tag="notifications",
           query={"unacked": "true: only those not yet signed for", **PAGING})
    def township_inbox(self, call: Call, code: str):
        unacked = (call.query("unacked") or "").lower() in ("true", "1", "yes")
        return self.notifications.read_inbox(call.actor, code, call.query("after"),
                                             call.query("limit"), unacked)

    @route("POST", "/v1/townships/<code>/notifications/<notification_id>/ack",
           "Sign for a notification (签收)", allow=access.anyone, response=Notification,
           tag="notifications", errors=(404,))
    def ack(self, call: Call, code: str, notification_id: str):
        return self.notifications.acknowledge(call.actor, code, notification_id)

    @route("GET", "/v1/townships/<code>/stream", "The township's feed, live (server-sent "
           "events; resume with Last-Event-ID)", allow=access.anyone, tag="notifications",
           query={"after": "resume after this cursor (as Last-Event-ID does)"})
    def stream(self, call: Call, code: str):
        start = call.request.headers.get("Last-Event-ID") or call.query("after")
        actor = call.actor
        # refused, a bad township or cursor: answered now
        self.notifications.read_inbox(actor, code, start, 1)
        feed, keys, token = self.notifications, self.keys, bearer_token(call.request)
        # eventlet's server gathers 4 KiB before writing; a live stream must send each event.
        call.request.environ["eventlet.minimum_write_chunk_size"] = 0

        def events():
            cursor, quiet_since = start, time.monotonic()
            yield "retry: 2000\n: connected\n\n"
            while True:
                try:
                    items = feed.read_inbox(actor, code, cursor, 100)["items"]
                except Problem:
                    items = []  # the notifications service is away: keep the stream open
                for item in items:
                    yield sse_event(item)
                    cursor = item["cursor"]
                if items:
                    quiet_since = time.monotonic()
                    continue
                if time.monotonic() - quiet_since >= KEEP_ALIVE:
                    if keys.principal_of(token) is None:
                        return  # the key was revoked: revocation is at once, streams too
                    yield ": keep-alive\n\n"
                    quiet_since = time.monotonic()
                eventlet.sleep(POLL)

        return Response(events(), status=200, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    # --- webhooks ----------------------------------------------------------------------------

    @route("POST", "/v1/townships/<code>/webhooks", "Subscribe a webhook (the secret is shown "
           "once)", allow=access.anyone, body=WebhookIn, response=Webhook, status=201,
           tag="webhooks", idempotent=True, errors=(404, 409))
    def create_webhook(self, call: Call, code: str):
        return replayable(self.notifications.create_webhook(
            call.actor, code, call.raw_body, call.idempotency_key), "webhook")

    @route("GET", "/v1/townships/<code>/webhooks", "List a township's webhooks",
           allow=access.anyone, response=page_of(Webhook), tag="webhooks")
    def list_webhooks(self, call: Call, code: str):
        return self.notifications.list_webhooks(call.actor, code)

    @route("DELETE", "/v1/townships/<code>/webhooks/<webhook_id>", "Remove a webhook",
           allow=access.anyone, status=204, tag="webhooks", errors=(404,))
    def delete_webhook(self, call: Call, code: str, webhook_id: str):
        self.notifications.delete_webhook(call.actor, code, webhook_id)
        return Response(status=204)

    @route("GET", "/v1/townships/<code>/webhooks/<webhook_id>/deliveries",
           "Every delivery of a webhook, with every attempt", allow=access.anyone,
           response=page_of(WebhookDelivery), tag="webhooks", query=PAGING, errors=(404,))
    def deliveries(self, call: Call, code: str, webhook_id: str):
        return self.notifications.list_deliveries(call.actor, code, webhook_id,
                                                  call.query("after"), call.query("limit"))

    @route("POST", "/v1/townships/<code>/webhooks/<webhook_id>/deliveries/<delivery_id>/retry",
           "Send a delivery again now", allow=access.anyone, response=WebhookDelivery,
           tag="webhooks", errors=(404, 409))
    def retry_delivery(self, call: Call, code: str, webhook_id: str, delivery_id: str):
        return self.notifications.retry_delivery(call.actor, code, webhook_id, delivery_id)

    # --- operators ---------------------------------------------------------------------------

    @route("GET", "/v1/admin/feeds", "Per township: unacked notifications and failing webhooks",
           allow=access.admin_only, response=page_of(TownshipFeedStatus), tag="operations",
           query={"township": "only this township"})
    def feed_status(self, call: Call):
        return self.notifications.feed_status(call.query("township"))


