"""Webhook signing, schedule and Retry-After, checked without anything running."""
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.common.storage.secrets_box import SecretsBox
from services.notifications import domain, signing


def test_signatures_verify_with_the_standard_webhooks_own_library():
    secret = signing.new_secret()
    body = '{"id": "ntf_1", "title_zh": "东村"}'.encode()
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers_for(secret, "ntf_1", now, body)
    assert Webhook(secret).verify(body, headers) == {"id": "ntf_1", "title_zh": "东村"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_the_schedule_spends_its_delays_then_gives_up():
    schedule = (1.0, 2.0, 4.0)
    rng = random.Random(7)
    delays = [domain.next_delay(n, schedule, None, rng) for n in (1, 2, 3)]
    for delay, base in zip(delays, schedule, strict=True):
        assert base * 0.8 <= delay <= base * 1.2  # jittered, within a fifth
    assert domain.next_delay(4, schedule, None, rng) is None  # exhausted


def test_retry_after_is_honoured_in_seconds_or_as_a_date():
    now = datetime(2026, 11, 26, 8, 0, 0, tzinfo=UTC)
    assert domain.parse_retry_after("120", now) == 120.0
    assert domain.parse_retry_after("Thu, 26 Nov 2026 08:01:00 GMT", now) == 60.0
    assert domain.parse_retry_after("soon", now) is None
    assert domain.next_delay(1, (1.0,), 120.0) == 120.0


def test_410_disables_and_only_2xx_succeeds():
    assert domain.disables_webhook(410) and not domain.disables_webhook(404)
    assert domain.is_success(204) and not domain.is_success(301)


def test_secrets_are_sealed_and_only_the_same_key_opens_them():
    box = SecretsBox(SecretsBox.new_key())
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed and box.open(sealed) == "whsec_abc"
    with pytest.raises(ValueError):
        SecretsBox(SecretsBox.new_key()).open(sealed)
