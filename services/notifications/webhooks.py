"""Webhook rules, pure Python: Standard Webhooks signing, the retry schedule, Retry-After.

Signing (CONTRACT §3): `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
keyed by the secret's bytes after `whsec_`, base64-decoded.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from datetime import datetime
from email.utils import parsedate_to_datetime

SECRET_PREFIX = "whsec_"
MAX_RETRY_AFTER = 24 * 60 * 60.0
# Default delays between attempts (seconds): quick at first, then stretching over a day.
DEFAULT_SCHEDULE = (5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 10800.0, 21600.0, 43200.0)
JITTER = 0.2  # each delay is stretched or shrunk by up to a fifth, so retries do not stampede


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers_for(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


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
