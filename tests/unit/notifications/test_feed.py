"""An event becomes its township's notification, with its AMQP message and its webhook
deliveries, once; the directory gives the titles their names."""
import json

from services.common.contract import events
from services.notifications import domain
from services.notifications.use_cases import feed, inbox
from tests.unit.notifications.helpers import (
    OTHER_TOWNSHIP,
    TOWNSHIP,
    VILLAGE,
    commitment_event,
    make_webhook,
    notify,
    problem_event,
)

OUTBOX = f"notifications:{{township:{TOWNSHIP}}}:outbox"


def _inbox(store, township=TOWNSHIP):
    return inbox.read_inbox(store, "admin", township)["items"]


def test_an_event_becomes_one_titled_notification_in_its_townships_inbox(store):
    event = commitment_event()
    assert notify(store, event)

    [item] = _inbox(store)
    assert item["id"] == domain.notification_id(event.event_id, TOWNSHIP)
    assert (item["type"], item["village_code"], item["data"]) == (event.type, VILLAGE,
                                                                  event.data)
    assert item["title_zh"] == "县农业农村局承诺向东村提供 cement 5.00 吨"
    assert item["title_en"] == "县农业农村局 committed 5.00 吨 of cement to 东村"
    assert (item["acked_at"], item["cursor"]) == (None, "1")
    assert _inbox(store, OTHER_TOWNSHIP) == []


def test_the_same_event_delivered_again_is_not_notified_again(store, box):
    make_webhook(store, box)
    event = problem_event()
    assert notify(store, event)
    assert not notify(store, event)
    assert len(_inbox(store)) == 1
    assert store.redis.llen(OUTBOX) == 1
    assert store.redis.zcard("notifications:webhooks:due") == 1


def test_the_amqp_message_is_the_public_notification_routed_to_the_township(store):
    event = problem_event("桥")
    notify(store, event)
    [raw] = store.redis.lrange(OUTBOX, 0, -1)
    message = json.loads(raw)
    [item] = _inbox(store)
    assert message["exchange"] == "guabang.notifications"
    assert message["routing_key"] == f"township.{TOWNSHIP}.assignment.problem_reported"
    assert message["message_id"] == item["id"]
    assert json.loads(message["body"]) == domain.public_notification(item)


def test_one_delivery_per_active_webhook_that_wants_the_type(store, box):
    every = make_webhook(store, box, "https://a.example/h")
    problems = make_webhook(store, box, "https://b.example/h",
                            types=["assignment.problem_reported"])
    make_webhook(store, box, "https://c.example/h", types=["resources.need_raised"])
    gone = make_webhook(store, box, "https://d.example/h")
    store.redis.hset(f"notifications:{{township:{TOWNSHIP}}}:webhook:{gone['id']}:health",
                     "status", "disabled")
    make_webhook(store, box, "https://e.example/h", township=OTHER_TOWNSHIP)

    notify(store, problem_event())

    claimed = store.claim_due(60_000, 10, 8, {})
    assert sorted(c.webhook_id for c in claimed) == sorted([every["id"], problems["id"]])
    assert {c.township_code for c in claimed} == {TOWNSHIP}


def test_an_event_about_no_village_notifies_nobody(store):
    event = events.make_event("assignment.department_registered", events.DepartmentRegistered(
        code="agri", name="县农业农村局", level="county", revision=1))
    assert not feed.notify_township(store, lambda kind, code: None,
                                    event.model_dump(mode="json"))
    assert store.townships() == []


def test_a_name_the_directory_does_not_know_yet_is_shown_as_its_code(store):
    notify_unknown = feed.notify_township(store, lambda kind, code: None,
                                          commitment_event().model_dump(mode="json"))
    assert notify_unknown
    [item] = _inbox(store)
    assert item["title_en"] == f"agri committed 5.00 吨 of cement to {VILLAGE}"


def test_directory_events_name_the_villages_in_titles(store):
    def village(revision, name):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code=VILLAGE, name=name, township_code=TOWNSHIP, hardship=3, tags=[],
            revision=revision), township_code=TOWNSHIP, village_code=VILLAGE)

    assert feed.apply_directory_event(store, village(2, "东村").model_dump(mode="json"))
    assert not feed.apply_directory_event(store, village(1, "旧名").model_dump(mode="json"))

    def from_the_projection(kind, code):
        return store.directory.resolve(kind, code, lambda *_: None)

    feed.notify_township(store, from_the_projection, problem_event().model_dump(mode="json"))
    assert _inbox(store)[0]["title_zh"] == "东村新增问题（发展规划）：路"
