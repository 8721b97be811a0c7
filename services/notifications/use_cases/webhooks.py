"""A township's webhooks: made (its secret shown once; a repeated Idempotency-Key gets the
first answer, secret included), listed, removed."""
from __future__ import annotations

from collections.abc import Iterable

from services.common.contract.events import utc_now
from services.common.contract.http_bodies import WebhookIn
from services.common.contract.paging import page
from services.common.contract.problems import invalid, not_found, validated
from services.common.messaging.topology import TOWNSHIP_FEED_EVENTS
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.secrets_box import SecretsBox
from services.common.use_cases import created
from services.common.values.ids import new_id
from services.notifications import domain, signing, targets
from services.notifications.store import NotificationsStore
from services.notifications.use_cases.shared import feed_to_change, feed_to_read


def create_webhook(store: NotificationsStore, box: SecretsBox, allowed: Iterable[str],
                   actor: str, township_code: str, body: dict,
                   idempotency_key: str | None = None) -> dict:
    """{"webhook": the webhook with its secret, "replayed": bool}. `allowed`: the networks
    and hosts the operator lets webhooks reach (none: any)."""
    township = feed_to_change(actor, township_code)
    request = validated(WebhookIn, body)
    unknown = domain.unknown_types(request.types, TOWNSHIP_FEED_EVENTS)
    if unknown:
        raise invalid(f"unknown notification types: {', '.join(unknown)}; use "
                      f'["*"] or some of: {", ".join(TOWNSHIP_FEED_EVENTS)}',
                      ["body", "types"])
    refused = targets.refusal(request.url, allowed)
    if refused:
        raise invalid(refused, ["body", "url"], type="webhook-url-refused")
    webhook = domain.new_webhook(new_id("whk"), request.url, request.types,
                                 box.seal(signing.new_secret()), utc_now())
    saved = store.save_webhook(township, webhook, IdempotentRequest.of(body, idempotency_key),
                               scope=actor)
    if saved.name == "gone":  # the webhook this Idempotency-Key made was removed since
        raise not_found("webhook made with this Idempotency-Key", saved.detail)
    stored, replayed = created(saved)
    secret = box.open(stored["secret_sealed"])  # the first one, if replayed
    return {"webhook": {**domain.public_webhook(stored), "secret": secret},
            "replayed": replayed}


def list_webhooks(store: NotificationsStore, actor: str, township_code: str) -> dict:
    township = feed_to_read(actor, township_code)
    return page([domain.public_webhook(w) for w in store.webhooks(township)], None)


def delete_webhook(store: NotificationsStore, actor: str, township_code: str,
                   webhook_id: str) -> None:
    """Its deliveries still waiting are abandoned when their turn comes."""
    if not store.delete_webhook(feed_to_change(actor, township_code), webhook_id):
        raise not_found("webhook", webhook_id)
