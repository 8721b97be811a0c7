"""The rules of a township's feed, pure Python (no Redis, no broker, no HTTP): what a
notification is and where it goes, which webhook wants it, what clients see of notifications
and webhooks, and what an attempt to deliver one means for the delivery and the webhook.

Signatures are in `signing.py`, titles in `titles.py`, where a webhook may point in
`targets.py`.
"""
from __future__ import annotations

import hashlib
import random
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from services.common.contract.events import Envelope, rfc3339
from services.notifications.titles import Names, render

# --- notifications ---------------------------------------------------------------------------


def notification_id(event_id: str, township_code: str) -> str:
    """Derived, not random: the same event for the same township is the same notification."""
    digest = hashlib.sha256(f"{event_id}|{township_code}".encode()).hexdigest()
    return f"ntf_{digest[:26]}"


def notification_of(envelope: Envelope, names: Names) -> dict:
    """The notification an event gives its village's township, titled in both languages."""
    title_zh, title_en = render(envelope.type, envelope.data, names)
    return {
        "id": notification_id(envelope.event_id, envelope.township_code),
        "event_id": envelope.event_id,
        "type": envelope.type,
        "township_code": envelope.township_code,
        "village_code": envelope.village_code,
        "occurred_at": envelope.occurred_at,
        "title_zh": title_zh,
        "title_en": title_en,
        "data": envelope.data,
        "acked_at": None,
    }


def routing_key(notification: dict) -> str:
    """`township.<code>.<type>`: a township binds `township.<code>.#` (CONTRACT §5)."""
    return f"township.{notification['township_code']}.{notification['type']}"


def public_notification(notification: dict) -> dict:
    """The notification as the webhook and AMQP channels send it: as it was made (the inbox's
    cursor and receipt are the inbox's own), the same on both channels and every retry."""
    return {**{key: value for key, value in notification.items()
               if key not in ("cursor", "acked_by")}, "acked_at": None}


class BadCursor(ValueError):
    """An inbox cursor this service never handed out."""


def parse_cursor(after) -> int | None:
    """An inbox cursor (the item's number in its township's sequence), None for the start."""
    if after in (None, ""):
        return None
    try:
        return int(after)
    except (TypeError, ValueError):
        raise BadCursor(after) from None


# --- webhooks --------------------------------------------------------------------------------

EVERY_TYPE = "*"


def unknown_types(types: list[str], known: tuple[str, ...]) -> list[str]:
    """The types a webhook asks for that no notification has, sorted."""
    return sorted(set(types) - {EVERY_TYPE, *known})


def wants(webhook: dict, event_type: str) -> bool:
    return webhook["status"] == "active" and (EVERY_TYPE in webhook["types"]
                                              or event_type in webhook["types"])


def new_webhook(webhook_id: str, url: str, types: list[str], secret_sealed: str,
                now: str) -> dict:
    return {"id": webhook_id, "url": url, "types": types, "status": "active", "created_at": now,
            "consecutive_failures": 0, "last_error": None, "last_success_at": None,
            "disabled_at": None, "disabled_reason": None, "secret_sealed": secret_sealed}


def public_webhook(webhook: dict) -> dict:
    """A webhook as clients see it: its secret is shown once, when it is made, and never
    again."""
    return {key: value for key, value in webhook.items() if key != "secret_sealed"}


def is_failing(webhook: dict) -> bool:
    """For the operators' view: disabled, or its last attempt failed."""
    return webhook["status"] != "active" or webhook.get("consecutive_failures", 0) > 0


# --- deliveries ------------------------------------------------------------------------------

MAX_RETRY_AFTER = 24 * 60 * 60.0
# Default delays between attempts (seconds): quick at first, then stretching over a day.
DEFAULT_SCHEDULE = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 10800.0, 21600.0, 43200.0)
JITTER = 0.2  # each delay is stretched or shrunk by up to a fifth, so retries do not stampede
GONE_REASON = "the receiver answered 410 Gone"
WEBHOOK_GONE = "the webhook was removed or disabled"
NOTIFICATION_GONE = "the notification is not stored"


def new_delivery(delivery_id: str, webhook_id: str, notification_id: str, now: str) -> dict:
    return {"id": delivery_id, "webhook_id": webhook_id, "notification_id": notification_id,
            "status": "pending", "attempts_made": 0, "created_at": now, "next_attempt_at": now}


def page_after(items: list[dict], after: str | None, limit: int) -> tuple[list[dict],
                                                                          str | None]:
    """A page of `items` after the one whose id is `after` (from the start when no item has
    it): (page, the id to ask after next, or None on the last page)."""
    ids = [item["id"] for item in items]
    start = ids.index(after) + 1 if after in ids else 0
    chunk = items[start:start + limit]
    return chunk, (chunk[-1]["id"] if chunk and start + limit < len(items) else None)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a receiver asked us to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max((when - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def next_delay(attempts_made: int, schedule: tuple[float, ...], retry_after: float | None,
               rng: random.Random | None = None) -> float | None:
    """Seconds until the next attempt after `attempts_made` failed ones, or None when the
    schedule is spent (the delivery is then exhausted). A receiver's Retry-After is honoured:
    we never come back sooner than it asked."""
    if attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    jittered = base * (1 + (rng or random).uniform(-JITTER, JITTER))
    return max(jittered, retry_after or 0.0)


def is_success(status: int) -> bool:
    return 200 <= status < 300


def disables_webhook(status: int) -> bool:
    """410 Gone: the receiver says this endpoint will never take deliveries again."""
    return status == 410


class Answer(NamedTuple):
    """What one attempt to POST a delivery came to."""

    status_code: int | None  # None when no answer came (refused, timed out, unreachable)
    error: str | None
    retry_after: float | None  # seconds the receiver asked us to wait
    duration_ms: int


class Attempted(NamedTuple):
    """An attempt, recorded: the delivery's new state, the attempt for its log, when (if
    ever) to try again, and what it tells about the webhook."""

    delivery: dict
    attempt: dict
    next_due_ms: int | None
    verdict: str  # succeeded | failed | gone
    webhook_note: str  # the webhook's last error (failed), or why it is disabled (gone)


def after_attempt(delivery: dict, answer: Answer, schedule: tuple[float, ...], now: float,
                  rng: random.Random | None = None) -> Attempted:
    """A 2xx delivers; 410 abandons the delivery and disables the webhook for good; anything
    else is tried again on the schedule until it is spent (exhausted)."""
    made = delivery["attempts_made"] + 1
    attempt = {"number": made, "at": rfc3339(now), "status_code": answer.status_code,
               "error": answer.error, "duration_ms": answer.duration_ms}
    status, next_due_ms = "pending", None
    if answer.status_code is not None and is_success(answer.status_code):
        status, verdict, note = "delivered", "succeeded", ""
    elif answer.status_code is not None and disables_webhook(answer.status_code):
        status, verdict, note = "abandoned", "gone", GONE_REASON
    else:
        verdict, note = "failed", answer.error or f"HTTP {answer.status_code}"
        delay = next_delay(made, schedule, answer.retry_after, rng)
        if delay is None:
            status = "exhausted"
        else:
            next_due_ms = int((now + delay) * 1000)
    next_attempt_at = rfc3339(next_due_ms / 1000) if next_due_ms is not None else None
    updated = {**delivery, "attempts_made": made, "status": status,
               "next_attempt_at": next_attempt_at}
    return Attempted(updated, attempt, next_due_ms, verdict, note)


def abandoned(delivery: dict, why: str, now: float) -> tuple[dict, dict]:
    """A delivery that cannot be sent any more (its webhook or notification is gone): its new
    state, and the attempt its log shows for it."""
    return ({**delivery, "status": "abandoned", "next_attempt_at": None},
            {"at": rfc3339(now), "status_code": None, "error": why})
