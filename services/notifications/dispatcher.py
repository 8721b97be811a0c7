"""Sends webhook deliveries, each in its own greenthread, so a slow or dead receiver holds one
slot of the pool and never delays other townships' deliveries.

Deliveries are stored work (made in the same Lua step as the notification); the dispatcher
claims due ones with a lease, so a delivery whose worker died becomes due again. What one
attempt does is the use case `deliveries.attempt_delivery`; this loop claims, keeps each
webhook to its share of the pool, and makes the HTTP calls.
"""
from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from datetime import UTC, datetime

import eventlet
import httpx

from services.common.config import settings_of
from services.common.messaging import background
from services.common.messaging.background import BackgroundLoop
from services.common.storage.redis_store import connect
from services.common.storage.secrets_box import SecretsBox
from services.notifications.domain import DEFAULT_SCHEDULE, Answer, parse_retry_after
from services.notifications.store import DISPATCHER_LOOP, Claim, NotificationsStore
from services.notifications.use_cases import deliveries

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
        self.sender = deliveries.Sender(
            post=self._post,
            # a webhook's secret is opened once, not on every attempt (sealed values never
            # change)
            open_secret=functools.lru_cache(maxsize=4096)(self.box.open),
            allowed=self.allowed,
            schedule=settings.webhook_retry_schedule or DEFAULT_SCHEDULE)

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
            deliveries.attempt_delivery(self.store, claim, self.sender)
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

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Answer(None, f"{type(exc).__name__}: {exc}"[:300], None,
                          int((time.monotonic() - started) * 1000))
        return Answer(response.status_code, None,
                      parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC)),
                      int((time.monotonic() - started) * 1000))
