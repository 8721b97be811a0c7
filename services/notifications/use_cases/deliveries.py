"""A webhook's deliveries: listed with every attempt, retried by hand, and attempted by the
dispatcher (one attempt: read what it needs, sign, send, record what came of it)."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.common.contract.events import utc_now
from services.common.contract.paging import page, parse_limit
from services.common.contract.problems import conflict, not_found
from services.notifications import domain, signing, targets
from services.notifications.store import Claim, NotificationsStore
from services.notifications.use_cases.shared import feed_to_change, feed_to_read


def list_deliveries(store: NotificationsStore, actor: str, township_code: str,
                    webhook_id: str, after=None, limit=None) -> dict:
    """A page of the webhook's deliveries in the order they were made, each with its
    attempts; `after`: a delivery id."""
    township = feed_to_read(actor, township_code)
    found = store.deliveries(township, webhook_id)
    if found is None:
        raise not_found("webhook", webhook_id)
    chunk, next_id = domain.page_after(found, after, parse_limit(limit))
    attempts = store.attempts(township, [d["id"] for d in chunk])
    return page([{**d, "attempts": attempts[d["id"]]} for d in chunk], next_id)


def retry_delivery(store: NotificationsStore, actor: str, township_code: str,
                   webhook_id: str, delivery_id: str) -> dict:
    """Send a finished delivery (delivered, exhausted or abandoned) again now; the delivery,
    pending, with its attempts so far."""
    township = feed_to_change(actor, township_code)
    retry = store.retry(township, webhook_id, delivery_id, utc_now())
    if retry.name == "no-webhook":
        raise not_found("webhook", webhook_id)
    if retry.name == "no-delivery":
        raise not_found("delivery", delivery_id)
    if retry.name == "webhook-disabled":
        raise conflict("webhook-disabled", f"webhook {webhook_id} is disabled "
                                           f"({retry.detail}); make a new one to receive "
                                           "deliveries again")
    if retry.name == "pending":
        raise conflict("delivery-pending", f"delivery {delivery_id} is already waiting for "
                                           "its next attempt")
    return retry.record


@dataclass(frozen=True)
class Sender:
    """How the dispatcher's attempts go out: `post(url, body, headers)` makes the HTTP call
    (and never raises: a failure is its Answer's error), `open_secret` unseals a webhook's
    secret, `allowed` are the operator's allowed targets, `schedule` the retry delays."""

    post: Callable[[str, bytes, dict[str, str]], domain.Answer]
    open_secret: Callable[[str], str]
    allowed: tuple[str, ...] = ()
    schedule: tuple[float, ...] = domain.DEFAULT_SCHEDULE


def attempt_delivery(store: NotificationsStore, claim: Claim, sender: Sender) -> None:
    """One attempt of a claimed delivery. A delivery that is not pending any more leaves the
    due queue; one whose webhook or notification is gone is abandoned; otherwise the signed
    notification is sent (where the operator allows) and the answer recorded."""
    context = store.attempt_context(claim.township_code, claim.delivery_id)
    if context is None or context.delivery["status"] != "pending":
        store.drop_due(claim.member)
        return
    delivery, webhook, notification = context
    gone = (domain.WEBHOOK_GONE if webhook is None or webhook["status"] != "active"
            else None if notification else domain.NOTIFICATION_GONE)
    if gone:
        delivery, attempt = domain.abandoned(delivery, gone, time.time())
        store.record_attempt(claim.township_code, delivery, attempt, None,
                             claimed_as=claim.member)
        return
    body = json.dumps(domain.public_notification(notification), ensure_ascii=False).encode()
    refused = targets.refusal(webhook["url"], sender.allowed)
    if refused:
        answer = domain.Answer(None, f"not sent: {refused}", None, 0)
    else:
        headers = signing.headers_for(sender.open_secret(webhook["secret_sealed"]),
                                      notification["id"], int(time.time()), body)
        answer = sender.post(webhook["url"], body, headers)
    done = domain.after_attempt(delivery, answer, sender.schedule, time.time())
    store.record_attempt(claim.township_code, done.delivery, done.attempt, done.next_due_ms,
                         done.verdict, done.webhook_note, claimed_as=claim.member)
