"""A township's webhooks: made with a secret shown once (a repeated Idempotency-Key gets the
first answer), listed without it, removed; only by the township itself or admin."""
import pytest

from services.common.contract.problems import Problem
from services.notifications.use_cases import webhooks
from tests.unit.notifications.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    TOWNSHIP_KEY,
    make_webhook,
    notify,
    problem_event,
)

BODY = {"url": "https://zhen.example/hook", "types": ["*"]}


def _create(store, box, body=BODY, key=None, actor=TOWNSHIP_KEY, allowed=()):
    return webhooks.create_webhook(store, box, allowed, actor, TOWNSHIP, body, key)


def _listed(store, actor="admin"):
    return webhooks.list_webhooks(store, actor, TOWNSHIP)["items"]


def test_a_webhook_is_made_active_with_a_secret_shown_only_then(store, box):
    made = _create(store, box)
    webhook = made["webhook"]
    assert not made["replayed"]
    assert webhook["secret"].startswith("whsec_") and webhook["status"] == "active"
    assert (webhook["url"], webhook["types"]) == (BODY["url"], BODY["types"])
    [listed] = _listed(store)
    assert listed == {k: v for k, v in webhook.items() if k != "secret"}
    assert "secret" not in listed and "secret_sealed" not in listed


def test_an_idempotency_key_gets_the_first_answer_secret_included(store, box):
    first = _create(store, box, key="hook-1")
    again = _create(store, box, key="hook-1")
    assert again == {**first, "replayed": True}
    assert len(_listed(store)) == 1
    # another caller's key of the same name is another request
    assert not _create(store, box, key="hook-1", actor="admin")["replayed"]
    assert len(_listed(store)) == 2


def test_an_idempotency_key_with_another_body_is_refused_and_changes_nothing(store, box):
    _create(store, box, key="hook-1")
    with pytest.raises(Problem) as reused:
        _create(store, box, {**BODY, "url": "https://zhen.example/two"}, key="hook-1")
    assert (reused.value.status, reused.value.type) == (409, "idempotency-key-reused")
    assert [w["url"] for w in _listed(store)] == [BODY["url"]]


def test_a_repeat_after_the_webhook_was_removed_says_so(store, box):
    made = _create(store, box, key="hook-1")["webhook"]
    webhooks.delete_webhook(store, TOWNSHIP_KEY, TOWNSHIP, made["id"])
    with pytest.raises(Problem) as gone:
        _create(store, box, key="hook-1")
    assert gone.value.status == 404 and made["id"] in gone.value.detail
    assert _listed(store) == []


@pytest.mark.parametrize("body, loc, type_", [
    ({"url": "https://zhen.example/h", "types": ["resources.nonsense"]}, ["body", "types"],
     "validation-failed"),
    ({"url": "ftp://zhen.example/h", "types": ["*"]}, ["body", "url"], "validation-failed"),
    ({"url": "https://a:b@zhen.example/h", "types": ["*"]}, ["body", "url"],
     "webhook-url-refused"),
    ({"url": "https://zhen.example/h", "types": []}, ["body", "types"], "validation-failed"),
])
def test_a_bad_webhook_is_refused_and_nothing_is_stored(store, box, body, loc, type_):
    with pytest.raises(Problem) as refused:
        _create(store, box, body)
    assert (refused.value.status, refused.value.type) == (422, type_)
    assert refused.value.errors[0]["loc"] == loc
    assert _listed(store) == []


def test_a_target_the_operator_does_not_allow_is_refused(store, box):
    with pytest.raises(Problem) as refused:
        _create(store, box, {"url": "http://127.0.0.1:9/h", "types": ["*"]},
                allowed=("203.0.113.0/24",))
    assert refused.value.type == "webhook-url-refused"


@pytest.mark.parametrize("actor", ["inspector:省督查组", f"township:{OTHER_TOWNSHIP}",
                                   "department:agri"])
def test_only_the_township_or_admin_makes_or_removes_webhooks(store, box, actor):
    made = make_webhook(store, box)
    with pytest.raises(Problem) as refused:
        _create(store, box, actor=actor)
    assert refused.value.status == 403
    with pytest.raises(Problem) as refused:
        webhooks.delete_webhook(store, actor, TOWNSHIP, made["id"])
    assert refused.value.status == 403
    assert [w["id"] for w in _listed(store)] == [made["id"]]


@pytest.mark.parametrize("actor, may", [
    ("admin", True), (TOWNSHIP_KEY, True), ("inspector:省督查组", True),
    (f"township:{OTHER_TOWNSHIP}", False), ("department:agri", False),
])
def test_a_townships_webhooks_are_read_by_whoever_reads_its_feed(store, box, actor, may):
    make_webhook(store, box)
    if may:
        assert len(_listed(store, actor)) == 1
    else:
        with pytest.raises(Problem) as refused:
            _listed(store, actor)
        assert refused.value.status == 403


def test_the_list_shows_each_webhooks_health(store, box):
    made = make_webhook(store, box)
    store.redis.hset(f"notifications:{{township:{TOWNSHIP}}}:webhook:{made['id']}:health",
                     mapping={"consecutive_failures": 3, "last_error": "HTTP 500"})
    [listed] = _listed(store)
    assert (listed["consecutive_failures"], listed["last_error"]) == (3, "HTTP 500")


def test_a_removed_webhook_gets_no_more_deliveries_and_is_not_found_again(store, box):
    made = make_webhook(store, box)
    webhooks.delete_webhook(store, TOWNSHIP_KEY, TOWNSHIP, made["id"])
    notify(store, problem_event())
    assert store.claim_due(60_000, 10, 8, {}) == []
    with pytest.raises(Problem) as missing:
        webhooks.delete_webhook(store, TOWNSHIP_KEY, TOWNSHIP, made["id"])
    assert missing.value.status == 404
