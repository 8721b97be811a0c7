"""The three stores answer a create in one shape (`Outcome`, names ok / replay / reused), and
one `created` turns it into a use case's (record, replayed) or the 409 of a reused key."""
from __future__ import annotations

import fakeredis
import pytest

from services.assignment.store import AssignmentStore
from services.common.contract import events
from services.common.contract.problems import Problem
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import Outcome
from services.common.use_cases import created
from services.notifications.domain import new_webhook
from services.notifications.store import NotificationsStore
from services.resources.store import ResourcesStore

AT = "2026-11-26T08:00:00.000Z"
VILLAGE, TOWNSHIP = "610581100201", "610581100"


def add_cadre(client, n: int, request: IdempotentRequest) -> Outcome:
    cadre = {"id": f"cdr_{n}", "name": "张三", "department_code": "agri", "phone": None,
             "created_at": AT}
    return AssignmentStore(client).add_cadre(cadre, None, request)


def raise_need(client, n: int, request: IdempotentRequest) -> Outcome:
    need = {"id": f"need_{n}", "village_code": VILLAGE, "township_code": TOWNSHIP,
            "hardship": 3, "kind": "cement", "unit": "吨", "category": "economy",
            "purpose": "路", "raised_by": "admin", "created_at": AT}
    event = events.make_event("resources.need_raised",
                              events.NeedRaised.of(need, requested="10.00"),
                              township_code=TOWNSHIP, village_code=VILLAGE)
    return ResourcesStore(client).raise_need(need, 1000, event, request, scope="admin")


def save_webhook(client, n: int, request: IdempotentRequest) -> Outcome:
    webhook = new_webhook(f"whk_{n}", "https://example.org/hook", ["*"], "sealed", AT)
    return NotificationsStore(client).save_webhook(TOWNSHIP, webhook, request, scope="admin")


@pytest.mark.parametrize("create", [add_cadre, raise_need, save_webhook],
                         ids=["assignment", "resources", "notifications"])
def test_every_store_answers_a_create_and_its_repeat_alike(create):
    client = fakeredis.FakeRedis(decode_responses=True)
    first = create(client, 1, IdempotentRequest("k-1", "fp"))
    again = create(client, 2, IdempotentRequest("k-1", "fp"))
    reused = create(client, 3, IdempotentRequest("k-1", "another body"))

    assert all(isinstance(o, Outcome) for o in (first, again, reused))
    assert (first.name, again.name, reused.name) == ("ok", "replay", "reused")
    assert again.record["id"] == first.record["id"] == created(first)[0]["id"]
    assert (created(first)[1], created(again)[1]) == (False, True)


def test_created_refuses_a_reused_key_and_an_outcome_its_use_case_left_unmapped():
    with pytest.raises(Problem) as refused:
        created(Outcome("reused"))
    assert (refused.value.status, refused.value.type) == (409, "idempotency-key-reused")
    with pytest.raises(ValueError, match="unit-mismatch"):
        created(Outcome("unit-mismatch", detail="吨"))
