"""Events, webhooks and names the notifications unit tests share."""
from __future__ import annotations

from services.common.contract import events
from services.notifications.store import NotificationsStore
from services.notifications.use_cases import feed, webhooks

TOWNSHIP, OTHER_TOWNSHIP = "610581100", "610581101"
VILLAGE = f"{TOWNSHIP}201"
TOWNSHIP_KEY = f"township:{TOWNSHIP}"  # the township itself, as the gateway passes it on
DIRECTORY = {("village", VILLAGE): {"code": VILLAGE, "name": "东村"},
             ("department", "agri"): {"code": "agri", "name": "县农业农村局"}}


def directory(kind: str, code: str) -> dict | None:
    """What the service's directory lookup answers: the registered record, or None."""
    return DIRECTORY.get((kind, code))


def problem_event(title: str = "路", village: str = VILLAGE) -> events.Envelope:
    township = village[:9]
    return events.make_event("assignment.problem_reported", events.ProblemReported(
        id=f"prb_{title}", village_code=village, township_code=township, category="plan",
        title=title, reported_by=f"township:{township}"),
        township_code=township, village_code=village)


def commitment_event(quantity: str = "5.00") -> events.Envelope:
    return events.make_event("resources.commitment_created", events.CommitmentCreated(
        id="cmt_1", department_code="agri", village_code=VILLAGE, township_code=TOWNSHIP,
        kind="cement", unit="吨", quantity=quantity, status="committed",
        created_at="2026-11-26T00:00:00.000Z"), township_code=TOWNSHIP, village_code=VILLAGE)


def notify(store: NotificationsStore, event: events.Envelope) -> bool:
    """The event as the township-feed queue hands it to the service."""
    return feed.notify_township(store, directory, event.model_dump(mode="json"))


def make_webhook(store, box, url="https://zhen.example/hook", types=("*",),
                 township=TOWNSHIP, key=None) -> dict:
    return webhooks.create_webhook(store, box, (), "admin", township,
                                   {"url": url, "types": list(types)}, key)["webhook"]
