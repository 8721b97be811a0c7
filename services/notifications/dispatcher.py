"""Sends webhook deliveries, each in its own greenthread, so a slow or dead receiver holds one
slot of the pool and never delays other townships' deliveries.

Deliveries are stored work (made in the same Lua step as the notification); the dispatcher
claims due ones with a lease, so a delivery whose worker died becomes due again.
"""
from __future__ import annotations

import functools
import json
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime

import eventlet
import httpx

from services.common.config import settings_of
from services.common.contract.events import utc_now
from services.common.messaging import background
from services.common.messaging.background import BackgroundLoop
from services.common.storage.redis_store import connect
from services.common.storage.secrets_box import SecretsBox
from services.notifications import targets, webhooks
from services.notifications.store import DISPATCHER_LOOP, Claim, NotificationsStore

log = logging.getLogger(__name__)

IDLE_WAIT = 0.2
# Attempts in flight to one webhook at once: a slow receiver keeps at most this many of the
# pool's slots, and what it cannot take stays due (the claim passes it by) until a slot frees.
PER_WEBHOOK = 8


class WebhookDispatcher(BackgroundLoop):
    wakes_on = DISPATCHER_LOOP  # woken when a notification brings deliveries
    idle_wait = IDLE_WAIT  # and a look anyway, for retries that come due
    def setup(self):
        settings = settings_of(self.container)
        if not settings.secrets_key:
            raise RuntimeError("GUABANG_SECRETS_KEY is not set: webhook secrets are sealed with "
                               "it (`guabang start` makes one and keeps it in .guabang/)")
        self.box = SecretsBox(settings.secrets_key)
        self.store = NotificationsStore(connect(settings.redis_url))
        self.schedule = settings.webhook_retry_schedule or webhooks.DEFAULT_SCHEDULE
        self.timeout = settings.webhook_timeout
        self.pool = eventlet.GreenPool(settings.webhook_concurrency)
        # a kept-alive connection for every slot: httpx keeps 20 by default, and beyond that
        # each attempt opened (and the receiver accepted) a new connection
        slots = settings.webhook_concurrency
        self.client = httpx.Client(timeout=self.timeout, follow_redirects=False,
                                   limits=httpx.Limits(max_connections=slots,
                                                       max_keepalive_connections=slots))
        self.lease_ms = int((self.timeout + 30) * 1000)
        self.allowed = settings.webhook_allowed
        self.in_flight: Counter[str] = Counter()
        self._pool_was_filled = False
        # a webhook's secret is opened once, not on every attempt (sealed values never change)
        self._secret = functools.lru_cache(maxsize=4096)(self.box.open)

    def stop(self):
        super().stop()
        self.pool.waitall()
        self.client.close()

    def step(self) -> bool:
        free = self.pool.free()
        if not free:
            return False  # idle until an attempt ends and rings
        claimed = self.store.claim_due(self.lease_ms, free, PER_WEBHOOK, self.in_flight)
        self._pool_was_filled = len(claimed) == free
        for claim in claimed:
            self.in_flight[claim.webhook_id] += 1  # counted from the claim, which counts them
            self.pool.spawn_n(self._attempt_safely, claim)
        return bool(claimed)

    def _attempt_safely(self, claim: Claim) -> None:
        try:
            self.attempt(claim)
        except Exception:
            # the lease runs out and the delivery becomes due again: nothing is lost
            log.exception("webhook delivery %s failed unexpectedly", claim.delivery_id)
        finally:
            webhook_was_full = self.in_flight[claim.webhook_id] >= PER_WEBHOOK
            self.in_flight[claim.webhook_id] -= 1
            if self.in_flight[claim.webhook_id] <= 0:
                del self.in_flight[claim.webhook_id]
            if webhook_was_full or self._pool_was_filled:
                # deliveries may be waiting for this slot: claim now, not on the next look
                background.wake(DISPATCHER_LOOP)

    def attempt(self, claim: Claim) -> None:
        store = self.store
        context = store.attempt_context(claim.township_code, claim.delivery_id)
        if context is None or context.delivery["status"] != "pending":
            store.drop_due(claim.member)
            return
        delivery, webhook = context.delivery, context.webhook
        gone = ("the webhook was removed or disabled"
                if webhook is None or webhook["status"] != "active"
                else None if context.notification else "the notification is not stored")
        if gone:
            delivery["status"] = "abandoned"
            store.record_attempt(claim.township_code, delivery, {
                "at": utc_now(), "status_code": None, "error": gone}, None,
                claimed_as=claim.member)
            return
        self._send(claim, delivery, webhook, context.notification)

    def _send(self, claim: Claim, delivery: dict, webhook: dict, notification: dict) -> None:
        body = json.dumps(public_notification(notification), ensure_ascii=False).encode()
        secret = self._secret(webhook["secret_sealed"])
        headers = webhooks.headers_for(secret, notification["id"], int(time.time()), body)
        started = time.monotonic()
        status, error, retry_after = None, None, None
        refused = targets.refusal(webhook["url"], self.allowed)
        if refused:
            error = f"not sent: {refused}"
        else:
            try:
                response = self.client.post(webhook["url"], content=body, headers=headers)
                status = response.status_code
                retry_after = webhooks.parse_retry_after(response.headers.get("retry-after"),
                                                         datetime.now(UTC))
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
        delivery["attempts_made"] += 1
        attempt = {"number": delivery["attempts_made"], "at": utc_now(), "status_code": status,
                   "error": error, "duration_ms": int((time.monotonic() - started) * 1000)}
        next_due = None
        if status is not None and webhooks.is_success(status):
            delivery["status"], verdict = "delivered", "succeeded"
        elif status is not None and webhooks.disables_webhook(status):
            delivery["status"], verdict = "abandoned", "gone"
        else:
            verdict = "failed"
            delay = webhooks.next_delay(delivery["attempts_made"], self.schedule, retry_after,
                                        random.Random())
            if delay is None:
                delivery["status"] = "exhausted"
            else:
                next_due = int((time.time() + delay) * 1000)
                delivery["next_attempt_at"] = datetime.fromtimestamp(
                    next_due / 1000, UTC).isoformat(timespec="milliseconds").replace(
                    "+00:00", "Z")
        if delivery["status"] != "pending":
            delivery["next_attempt_at"] = None
        self.store.record_attempt(claim.township_code, delivery, attempt, next_due, verdict,
                                  claimed_as=claim.member)


def public_notification(notification: dict) -> dict:
    """The notification as the webhook and AMQP channels send it: as it was made (the inbox's
    cursor and receipt are the inbox's own), the same on both channels and every retry."""
    return {**{key: value for key, value in notification.items()
               if key not in ("cursor", "acked_by")}, "acked_at": None}
