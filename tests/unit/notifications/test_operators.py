"""The operators' view: per township, what is not signed for and which webhooks fail."""
import pytest

from services.common.contract.problems import Problem
from services.notifications.use_cases import inbox, operators
from tests.unit.notifications.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    make_webhook,
    notify,
    problem_event,
)


def test_every_township_with_a_feed_is_listed_with_its_unacked_and_failing_webhooks(
        store, box):
    healthy = make_webhook(store, box, "https://a.example/h")
    failing = make_webhook(store, box, "https://b.example/h")
    store.redis.hset(f"notifications:{{township:{TOWNSHIP}}}:webhook:{failing['id']}:health",
                     "consecutive_failures", 2)
    for title in ("一", "二"):
        notify(store, problem_event(title))
    [first, _] = inbox.read_inbox(store, "admin", TOWNSHIP)["items"]
    inbox.acknowledge(store, "admin", TOWNSHIP, first["id"])
    notify(store, problem_event("邻", village=f"{OTHER_TOWNSHIP}201"))

    status = operators.feed_status(store)
    assert status["next"] is None
    ours, theirs = status["items"]
    assert (ours["township_code"], ours["unacked"], ours["failing_webhooks"]) == (
        TOWNSHIP, 1, 1)
    assert [w["id"] for w in ours["webhooks"]] == [healthy["id"], failing["id"]]
    assert all("secret_sealed" not in w for w in ours["webhooks"])
    assert (theirs["township_code"], theirs["unacked"], theirs["webhooks"]) == (
        OTHER_TOWNSHIP, 1, [])
    assert operators.feed_status(store, OTHER_TOWNSHIP)["items"] == [theirs]


def test_a_township_asked_for_is_a_township_code(store):
    with pytest.raises(Problem) as refused:
        operators.feed_status(store, "61058")
    assert (refused.value.status, refused.value.errors[0]["loc"]) == (
        422, ["query", "township"])
