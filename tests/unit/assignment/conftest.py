"""The assignment use cases run against the real store over an in-process Redis
(fakeredis with Lua): the same scripts as in production, no Redis server, no broker."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import timedelta

import fakeredis
import pytest

from services.assignment.store import OUTBOX, AssignmentStore
from services.assignment.use_cases import assignments, cadres, directory
from services.common.contract.events import county_today
from services.common.contract.problems import Problem

T1, T2 = "610581100", "610581101"  # two townships of county 610581
V1, V1B, V2 = f"{T1}201", f"{T1}202", f"{T2}201"  # two villages of T1, one of T2
TODAY = county_today()
TERM = ((TODAY - timedelta(days=200)).isoformat(), (TODAY + timedelta(days=200)).isoformat())


@pytest.fixture
def store() -> AssignmentStore:
    # Records are indexed by the millisecond they are stored in; a test stores several in one,
    # so it gets a clock that ticks once per write (lists then come in the order written).
    ticks = itertools.count(1_800_000_000_000)
    return AssignmentStore(fakeredis.FakeRedis(decode_responses=True),
                           now_score=lambda: next(ticks))


def outbox_events(store: AssignmentStore) -> list[dict]:
    """The events the store put in the outbox, oldest first."""
    return [json.loads(json.loads(entry)["body"]) for entry in store.redis.lrange(OUTBOX, 0, -1)]


@dataclass
class County:
    """A registered county: townships T1 and T2, villages V1, V1B (T1) and V2 (T2),
    departments agri and water; `store` is its store."""

    store: AssignmentStore

    def cadre(self, department="agri", name="王建国", phone="13800138000") -> dict:
        """A registered cadre (its event is set-up, not news: the outbox is cleared)."""
        cadre = cadres.register_cadre(self.store, f"department:{department}", {
            "name": name, "department_code": department, "phone": phone,
            "title": "副局长"})["cadre"]
        self.clear_outbox()
        return cadre

    def assign(self, cadre: dict, village=V1, role="member", term=TERM, key=None,
               actor=None) -> dict:
        return assignments.start_assignment(
            self.store, actor or f"department:{cadre['department_code']}",
            {"cadre_id": cadre["id"], "village_code": village, "role": role,
             "starts_on": term[0], "ends_on": term[1]}, key)["assignment"]

    def outbox(self) -> list[dict]:
        return outbox_events(self.store)

    def event_types(self) -> list[str]:
        return [event["type"] for event in self.outbox()]

    def clear_outbox(self) -> None:
        self.store.redis.delete(OUTBOX)


@pytest.fixture
def county(store) -> County:
    for township in (T1, T2):
        directory.register_township(store, township, {"name": f"镇{township[-1]}",
                                                      "county_code": "610581"})
    for village, township in ((V1, T1), (V1B, T1), (V2, T2)):
        directory.register_village(store, village, {"name": f"村{village[-3:]}",
                                                    "township_code": township, "hardship": 4})
    for department in ("agri", "water"):
        directory.register_department(store, department, {"name": f"县{department}局",
                                                          "level": "county"})
    county = County(store)
    county.clear_outbox()
    return county


def refused(call, *args, **kwargs) -> Problem:
    """The problem a use case raised (fails if it raised none)."""
    with pytest.raises(Problem) as raised:
        call(*args, **kwargs)
    return raised.value


def as_unknown(hidden: Problem, missing: Problem, record_id: str, made_up_id: str) -> bool:
    """Whether a refusal is the very answer a made-up id gets (the id it names aside): what a
    caller who may not see a record is answered (CONTRACT §2)."""
    return json.dumps(hidden.to_dict()) == json.dumps(missing.to_dict()).replace(made_up_id,
                                                                                  record_id)
