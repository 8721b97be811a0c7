"""A webhook's deliveries: each attempt of the dispatcher (signed, sent, recorded with what it
means for the delivery and the webhook), the log a township reads, and its manual retry."""
import json

import pytest
from standardwebhooks.webhooks import Webhook

from services.common.contract.problems import Problem
from services.notifications import domain
from services.notifications.use_cases import deliveries, inbox, webhooks
from tests.unit.notifications.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    TOWNSHIP_KEY,
    make_webhook,
    notify,
    problem_event,
)

DUE = "notifications:webhooks:due"


class Receiver:
    """Answers each POST with the next of `answers` (an HTTP status, or an error text)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.received: list[tuple[str, bytes, dict]] = []

    def post(self, url: str, body: bytes, headers: dict) -> domain.Answer:
        self.received.append((url, body, headers))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, str):
            return domain.Answer(None, answer, None, 5)
        return domain.Answer(answer, None, None, 5)


def _sender(box, receiver, schedule=(60.0,), allowed=()):
    return deliveries.Sender(post=receiver.post, open_secret=box.open, allowed=allowed,
                             schedule=schedule)


def _attempt_all(store, sender):
    """Every delivery due now, attempted once."""
    claims = store.claim_due(60_000, 50, 8, {})
    for claim in claims:
        deliveries.attempt_delivery(store, claim, sender)
    return claims


def _log(store, webhook, actor="admin"):
    return deliveries.list_deliveries(store, actor, TOWNSHIP, webhook["id"])["items"]


def _webhook(store, webhook):
    return {w["id"]: w for w in webhooks.list_webhooks(store, "admin", TOWNSHIP)["items"]}[
        webhook["id"]]


@pytest.fixture
def hook(store, box):
    """A webhook with one delivery waiting: (webhook with its secret, its notification)."""
    made = webhooks.create_webhook(store, box, (), TOWNSHIP_KEY, TOWNSHIP,
                                   {"url": "https://zhen.example/hook", "types": ["*"]})
    notify(store, problem_event())
    [notification] = inbox.read_inbox(store, "admin", TOWNSHIP)["items"]
    return made["webhook"], notification


def test_a_delivery_is_the_signed_public_notification_and_a_2xx_delivers_it(store, box, hook):
    webhook, notification = hook
    receiver = Receiver(204)
    _attempt_all(store, _sender(box, receiver))

    [(url, body, headers)] = receiver.received
    assert url == webhook["url"] and headers["webhook-id"] == notification["id"]
    assert Webhook(webhook["secret"]).verify(body, headers) == \
        domain.public_notification(notification)
    [delivery] = _log(store, webhook)
    assert (delivery["status"], delivery["attempts_made"], delivery["next_attempt_at"]) == \
        ("delivered", 1, None)
    assert [(a["number"], a["status_code"]) for a in delivery["attempts"]] == [(1, 204)]
    assert store.redis.zcard(DUE) == 0
    health = _webhook(store, webhook)
    assert health["consecutive_failures"] == 0 and health["last_success_at"]


def test_a_failure_waits_its_turn_on_the_schedule_then_is_exhausted(store, box, hook):
    webhook, _ = hook
    sender = _sender(box, Receiver(500, "ConnectError: refused"), schedule=(0.0,))
    _attempt_all(store, sender)
    [delivery] = _log(store, webhook)
    assert delivery["status"] == "pending" and delivery["next_attempt_at"]
    assert store.redis.zcard(DUE) == 1
    assert (_webhook(store, webhook)["consecutive_failures"],
            _webhook(store, webhook)["last_error"]) == (1, "HTTP 500")

    _attempt_all(store, sender)  # the schedule's one retry, due at once
    [delivery] = _log(store, webhook)
    assert (delivery["status"], delivery["attempts_made"]) == ("exhausted", 2)
    assert [a["error"] for a in delivery["attempts"]] == [None, "ConnectError: refused"]
    assert store.redis.zcard(DUE) == 0
    assert _webhook(store, webhook)["consecutive_failures"] == 2


def test_a_retry_is_not_claimed_before_it_is_due(store, box, hook):
    _attempt_all(store, _sender(box, Receiver(503), schedule=(60.0,)))
    assert _attempt_all(store, _sender(box, Receiver())) == []


def test_410_abandons_the_delivery_and_disables_the_webhook_for_good(store, box, hook):
    webhook, _ = hook
    _attempt_all(store, _sender(box, Receiver(410)))
    [delivery] = _log(store, webhook)
    assert delivery["status"] == "abandoned"
    disabled = _webhook(store, webhook)
    assert disabled["status"] == "disabled" and disabled["disabled_reason"] == \
        domain.GONE_REASON
    notify(store, problem_event("又一个"))
    assert store.claim_due(60_000, 50, 8, {}) == []  # a disabled webhook gets nothing more


def test_a_delivery_whose_webhook_was_removed_is_abandoned_unsent(store, box, hook):
    webhook, _ = hook
    [claim] = store.claim_due(60_000, 50, 8, {})
    webhooks.delete_webhook(store, "admin", TOWNSHIP, webhook["id"])
    receiver = Receiver()
    deliveries.attempt_delivery(store, claim, _sender(box, receiver))
    assert receiver.received == []
    stored = json.loads(store.redis.hget(f"notifications:{{township:{TOWNSHIP}}}:deliveries",
                                         claim.delivery_id))
    assert stored["status"] == "abandoned"
    assert store.attempts(TOWNSHIP, [claim.delivery_id])[claim.delivery_id][0]["error"] == \
        domain.WEBHOOK_GONE
    assert store.redis.zcard(DUE) == 0


def test_a_delivery_no_longer_pending_only_leaves_the_queue(store, box, hook):
    webhook, _ = hook
    [claim] = store.claim_due(60_000, 50, 8, {})
    deliveries.attempt_delivery(store, claim, _sender(box, Receiver(200)))
    store.redis.zadd(DUE, {claim.member: 0})  # a lease ran out after it was recorded
    receiver = Receiver()
    _attempt_all(store, _sender(box, receiver))
    assert receiver.received == [] and store.redis.zcard(DUE) == 0
    assert len(_log(store, webhook)[0]["attempts"]) == 1


def test_a_target_the_operator_no_longer_allows_is_not_sent_to(store, box):
    webhook = make_webhook(store, box, "http://192.0.2.7/hook")  # allowed when it was made
    notify(store, problem_event())
    receiver = Receiver()
    _attempt_all(store, _sender(box, receiver, allowed=("203.0.113.0/24",)))
    assert receiver.received == []
    [delivery] = _log(store, webhook)
    assert delivery["attempts"][0]["error"].startswith("not sent: ")
    assert delivery["status"] == "pending"  # the operator may allow it again


def test_the_log_lists_one_webhooks_deliveries_in_pages_with_their_attempts(store, box, hook):
    webhook, _ = hook
    other = make_webhook(store, box, "https://other.example/h")
    for n in range(2):
        notify(store, problem_event(f"再{n}"))
    _attempt_all(store, _sender(box, Receiver(200, 200, 200, 200, 200)))

    first = deliveries.list_deliveries(store, TOWNSHIP_KEY, TOWNSHIP, webhook["id"], None, "2")
    rest = deliveries.list_deliveries(store, TOWNSHIP_KEY, TOWNSHIP, webhook["id"],
                                      first["next"], "2")
    found = first["items"] + rest["items"]
    assert len(found) == 3 and rest["next"] is None
    assert {d["webhook_id"] for d in found} == {webhook["id"]}
    assert all(len(d["attempts"]) == 1 for d in found)
    assert len(_log(store, other)) == 2  # made after the first notification


def test_the_log_of_an_unknown_webhook_is_not_found(store):
    with pytest.raises(Problem) as missing:
        deliveries.list_deliveries(store, "admin", TOWNSHIP, "whk_none")
    assert missing.value.status == 404


@pytest.mark.parametrize("actor, may", [
    ("inspector:省督查组", True), (f"township:{OTHER_TOWNSHIP}", False),
    ("department:agri", False),
])
def test_the_log_is_read_by_whoever_reads_the_feed(store, hook, actor, may):
    webhook, _ = hook
    if may:
        assert len(_log(store, webhook, actor)) == 1
    else:
        with pytest.raises(Problem) as refused:
            _log(store, webhook, actor)
        assert refused.value.status == 403


def _retry(store, webhook_id, delivery_id, actor=TOWNSHIP_KEY):
    return deliveries.retry_delivery(store, actor, TOWNSHIP, webhook_id, delivery_id)


def test_a_finished_delivery_is_sent_again_at_once_on_request(store, box, hook):
    webhook, _ = hook
    _attempt_all(store, _sender(box, Receiver(500), schedule=()))
    [exhausted] = _log(store, webhook)
    assert exhausted["status"] == "exhausted"

    retried = _retry(store, webhook["id"], exhausted["id"])
    assert retried["status"] == "pending" and retried["next_attempt_at"]
    assert retried["attempts"] == exhausted["attempts"]
    _attempt_all(store, _sender(box, Receiver(200)))
    [delivered] = _log(store, webhook)
    assert delivered["status"] == "delivered"
    assert [a["status_code"] for a in delivered["attempts"]] == [500, 200]


def test_a_retry_is_refused_for_what_cannot_be_sent_again(store, box, hook):
    webhook, _ = hook
    [pending] = _log(store, webhook)
    other = make_webhook(store, box, "https://other.example/h")
    cases = [
        (webhook["id"], pending["id"], 409, "delivery-pending"),
        ("whk_none", pending["id"], 404, "not-found"),
        (webhook["id"], "dlv_none", 404, "not-found"),
        (other["id"], pending["id"], 404, "not-found"),  # not this webhook's
    ]
    for webhook_id, delivery_id, status, type_ in cases:
        with pytest.raises(Problem) as refused:
            _retry(store, webhook_id, delivery_id)
        assert (refused.value.status, refused.value.type) == (status, type_), webhook_id


def test_a_disabled_webhooks_deliveries_are_not_retried(store, box, hook):
    webhook, _ = hook
    _attempt_all(store, _sender(box, Receiver(410)))
    [abandoned] = _log(store, webhook)
    with pytest.raises(Problem) as refused:
        _retry(store, webhook["id"], abandoned["id"])
    assert (refused.value.status, refused.value.type) == (409, "webhook-disabled")
    assert domain.GONE_REASON in refused.value.detail
    assert _log(store, webhook)[0]["status"] == "abandoned"


@pytest.mark.parametrize("actor", ["inspector:省督查组", f"township:{OTHER_TOWNSHIP}"])
def test_only_the_township_or_admin_retries(store, box, hook, actor):
    webhook, _ = hook
    _attempt_all(store, _sender(box, Receiver(500), schedule=()))
    [exhausted] = _log(store, webhook)
    with pytest.raises(Problem) as refused:
        _retry(store, webhook["id"], exhausted["id"], actor)
    assert refused.value.status == 403
    assert _log(store, webhook)[0]["status"] == "exhausted"
