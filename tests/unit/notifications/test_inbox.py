"""A township reads its inbox in a stable order, signs for a notification once, and reads or
signs for no other township's."""
import pytest

from services.common.contract.problems import Problem
from services.notifications.use_cases import inbox
from tests.unit.notifications.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    TOWNSHIP_KEY,
    notify,
    problem_event,
)


@pytest.fixture
def five(store):
    for n in range(5):
        notify(store, problem_event(f"问题{n}"))
    return [i["id"] for i in inbox.read_inbox(store, "admin", TOWNSHIP)["items"]]


def test_pages_follow_one_another_without_gaps_or_repeats(store, five):
    seen, after = [], None
    while True:
        page = inbox.read_inbox(store, TOWNSHIP_KEY, TOWNSHIP, after, "2")
        seen += [i["data"]["title"] for i in page["items"]]
        after = page["next"]
        if after is None:
            break
    assert seen == [f"问题{n}" for n in range(5)]


@pytest.mark.parametrize("after, limit, loc", [
    ("abc", None, ["query", "after"]),
    (None, "0", ["query", "limit"]),
    (None, "501", ["query", "limit"]),
])
def test_a_bad_cursor_or_limit_is_refused(store, after, limit, loc):
    with pytest.raises(Problem) as refused:
        inbox.read_inbox(store, TOWNSHIP_KEY, TOWNSHIP, after, limit)
    assert (refused.value.status, refused.value.errors[0]["loc"]) == (422, loc)


def test_a_township_code_is_nine_digits(store):
    with pytest.raises(Problem) as refused:
        inbox.read_inbox(store, "admin", "6105811")
    assert (refused.value.status, refused.value.errors[0]["loc"]) == (422, ["path", "code"])


@pytest.mark.parametrize("actor, may", [
    ("admin", True), (TOWNSHIP_KEY, True), ("inspector:省督查组", True),
    (f"township:{OTHER_TOWNSHIP}", False), ("department:agri", False),
])
def test_a_township_reads_only_its_own_inbox(store, five, actor, may):
    if may:
        assert len(inbox.read_inbox(store, actor, TOWNSHIP)["items"]) == 5
    else:
        with pytest.raises(Problem) as refused:
            inbox.read_inbox(store, actor, TOWNSHIP)
        assert (refused.value.status, refused.value.type) == (403, "forbidden")


def test_a_receipt_is_recorded_once_and_takes_the_notification_off_the_unacked_list(
        store, five):
    acked = inbox.acknowledge(store, TOWNSHIP_KEY, TOWNSHIP, five[1])
    assert acked["id"] == five[1] and acked["acked_by"] == TOWNSHIP_KEY and acked["acked_at"]
    assert acked["data"]["title"] == "问题1" and acked["cursor"] == "2"

    again = inbox.acknowledge(store, "admin", TOWNSHIP, five[1])
    assert (again["acked_at"], again["acked_by"]) == (acked["acked_at"], TOWNSHIP_KEY)

    unacked = inbox.read_inbox(store, TOWNSHIP_KEY, TOWNSHIP, unacked=True)["items"]
    assert [i["id"] for i in unacked] == [five[0], *five[2:]]
    listed = {i["id"]: i for i in inbox.read_inbox(store, TOWNSHIP_KEY, TOWNSHIP)["items"]}
    assert listed[five[1]]["acked_by"] == TOWNSHIP_KEY and listed[five[0]]["acked_at"] is None


def test_an_unknown_or_another_townships_notification_is_not_found(store, five):
    notify(store, problem_event("邻村", village=f"{OTHER_TOWNSHIP}201"))
    [theirs] = inbox.read_inbox(store, "admin", OTHER_TOWNSHIP)["items"]
    for notification_id in ("ntf_nosuchthing", theirs["id"]):
        with pytest.raises(Problem) as missing:
            inbox.acknowledge(store, "admin", TOWNSHIP, notification_id)
        assert missing.value.status == 404
    assert inbox.read_inbox(store, "admin", OTHER_TOWNSHIP, unacked=True)["items"] == [theirs]


@pytest.mark.parametrize("actor", ["inspector:省督查组", f"township:{OTHER_TOWNSHIP}",
                                   "department:agri"])
def test_only_the_township_or_admin_signs_for_it(store, five, actor):
    with pytest.raises(Problem) as refused:
        inbox.acknowledge(store, actor, TOWNSHIP, five[0])
    assert refused.value.status == 403
    assert len(inbox.read_inbox(store, "admin", TOWNSHIP, unacked=True)["items"]) == 5
