"""The resources use cases run against the real store over an in-process Redis
(fakeredis with Lua): the same scripts decide, no broker and no Redis server."""
from __future__ import annotations

import json

import fakeredis
import pytest

from services.common.contract.problems import Problem
from services.resources.store import ResourcesStore
from services.resources.use_cases import pools, projections

T1, T2 = "610581100", "610581101"
V1, V1B, V2 = f"{T1}201", f"{T1}202", f"{T2}201"
ADMIN, AGRI, WATER = "admin", "department:agri", "department:water"
TOWN, OTHER_TOWN, INSPECTOR = f"township:{T1}", f"township:{T2}", "inspector:省督查组"

DIRECTORY = {
    ("township", T1): {"code": T1, "name": "城关街道"},
    ("township", T2): {"code": T2, "name": "龙门镇"},
    ("village", V1): {"code": V1, "name": "东村", "township_code": T1, "hardship": 5},
    ("village", V1B): {"code": V1B, "name": "西村", "township_code": T1, "hardship": 2},
    ("village", V2): {"code": V2, "name": "南村", "township_code": T2, "hardship": 3},
    ("department", "agri"): {"code": "agri", "name": "县农业农村局"},
    ("department", "water"): {"code": "water", "name": "县水利局"},
}


def directory(kind: str, code: str) -> dict | None:
    """What the service's directory lookup answers: the registered record, or None."""
    return DIRECTORY.get((kind, code))


@pytest.fixture
def redis():
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def store(redis):
    return ResourcesStore(redis)


@pytest.fixture
def pooled(store):
    """agri holds 100 吨 of cement, water 1000."""
    pools.add_to_pool(store, directory, AGRI, "agri", {"kind": "cement", "unit": "吨",
                                                       "quantity": "100"})
    pools.add_to_pool(store, directory, WATER, "water", {"kind": "cement", "unit": "吨",
                                                         "quantity": "1000"})
    return store


def events_in(redis, slot: str) -> list[dict]:
    """The events in an outbox (`dept:agri`, `village:<code>`), oldest first."""
    return [json.loads(json.loads(entry)["body"])
            for entry in redis.lrange(f"resources:{{{slot}}}:outbox", 0, -1)]


def project(store, redis, slot: str = "dept:agri") -> None:
    """Apply the commitment events of an outbox, as the service's handler does (each event
    once however often it is applied)."""
    for event in events_in(redis, slot):
        if event["type"].startswith("resources.commitment_"):
            projections.apply_commitment_event(store, event)


def commitment_body(quantity="10", department="agri", village=V1, **extra) -> dict:
    return {"department_code": department, "village_code": village, "kind": "cement",
            "unit": "吨", "quantity": quantity, **extra}


def need_body(quantity="40", kind="cement", unit="吨") -> dict:
    return {"kind": kind, "unit": unit, "quantity": quantity, "category": "economy",
            "purpose": "修建花椒晾晒场"}


def refusal(call, *args, **kwargs) -> Problem:
    """The problem a use case raised (fails if it raised none)."""
    with pytest.raises(Problem) as refused:
        call(*args, **kwargs)
    return refused.value
