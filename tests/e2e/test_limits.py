"""Limits an operator sets: requests a second per key, and where webhooks may point."""
import pytest

from tests.support.system import isolated_system

pytestmark = pytest.mark.e2e

LIMITS_REDIS_DB = 12


@pytest.fixture
def strict_system(amqp_uri, redis_server):
    with isolated_system(amqp_uri, redis_server.flushed_url(LIMITS_REDIS_DB), env={
            "GUABANG_RATE_LIMIT": "5", "GUABANG_WEBHOOK_ALLOWED": "203.0.113.0/24"}) as system:
        yield system


def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_do_not(strict_system):
    with strict_system.client() as admin:
        key = admin.post("/v1/api-keys", json={"principal": "inspector:x"}).json()["key"]
    with strict_system.client(key) as busy:
        answers = [busy.get("/v1/departments") for _ in range(12)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].json()["type"] == "rate-limited"
    with strict_system.client() as admin:  # another key has its own allowance
        assert admin.get("/v1/departments").status_code == 200


def test_webhooks_to_addresses_the_operator_did_not_allow_are_refused(strict_system):
    with strict_system.client() as admin:
        admin.put("/v1/townships/610581100", json={"name": "龙门镇", "county_code": "610581"})
        internal = admin.post("/v1/townships/610581100/webhooks",
                              json={"url": "http://127.0.0.1:6379/", "types": ["*"]})
        assert internal.status_code == 422
        assert internal.json()["type"] == "webhook-url-refused"
        allowed = admin.post("/v1/townships/610581100/webhooks",
                             json={"url": "http://203.0.113.9/hook", "types": ["*"]})
        assert allowed.status_code == 201
        assert admin.get("/v1/townships/610581100/webhooks").json()["items"][0]["url"] == \
            "http://203.0.113.9/hook"
