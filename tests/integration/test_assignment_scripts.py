"""The assignment store's five Lua scripts against the real Redis, one table per script: each
outcome a script can answer, what it wrote, and that a refusal writes nothing."""
from __future__ import annotations

import json
import uuid

import pytest

from services.assignment.store import (
    ABSENCES,
    CADRES,
    OUTBOX,
    PROBLEMS,
    AssignmentStore,
    cadre_active_key,
    cadre_history_key,
    department_cadres_key,
    summary_keys,
    village_active_key,
    village_history_key,
    village_problems_key,
)
from services.common.contract.events import Envelope
from services.common.storage.idempotent_requests import IdempotentRequest

pytestmark = pytest.mark.integration

VILLAGE, OTHER_VILLAGE, TOWNSHIP = "610581100201", "610581100202", "610581100"
TODAY = "2026-06-15"


@pytest.fixture
def store(redis_client) -> AssignmentStore:
    return AssignmentStore(redis_client)


def event(kind: str = "assignment.assignment_started") -> Envelope:
    return Envelope(event_id=str(uuid.uuid4()), type=kind, occurred_at="2026-06-15T00:00:00Z",
                    producer="assignment", data={})


def request(key: str | None = None, body: dict | None = None) -> IdempotentRequest:
    return IdempotentRequest.of(body or {"n": 1}, key)


def snapshot(redis) -> dict:
    """Every key and its value, to show a refusal wrote nothing."""
    read = {"string": redis.get, "hash": redis.hgetall, "set": redis.smembers,
            "list": lambda k: redis.lrange(k, 0, -1),
            "zset": lambda k: redis.zrange(k, 0, -1, withscores=True)}
    return {key: read[redis.type(key)](key) for key in redis.keys("*")}


def outbox_types(redis) -> list[str]:
    return [json.loads(entry)["type"] for entry in redis.lrange(OUTBOX, 0, -1)]


# --- create_record.lua --------------------------------------------------------------------------

def cadre(n: int, department: str = "agri") -> dict:
    return {"id": f"cdr_{n}", "name": f"干部{n}", "department_code": department}


@pytest.mark.parametrize("first, second, outcome, stored", [
    # (record, key, body) of a first and second create; the second's outcome; ids stored after
    ((1, None, "a"), (2, None, "a"), "ok", ["cdr_1", "cdr_2"]),       # no key: both are new
    ((1, "k", "a"), (2, "k", "a"), "replay", ["cdr_1"]),               # the first answer again
    ((1, "k", "a"), (2, "k", "b"), "reused", ["cdr_1"]),               # same key, other body
    ((1, "k", "a"), (2, "j", "a"), "ok", ["cdr_1", "cdr_2"]),          # another key
], ids=["no-key", "replay", "reused", "other-key"])
def test_create_record(store, redis_client, first, second, outcome, stored):
    def create(n, key, body):
        return store.add_cadre(cadre(n), event("assignment.cadre_registered"),
                               request(key, {"body": body}))

    assert create(*first).name == "ok"
    before = snapshot(redis_client)
    answer = create(*second)
    assert answer.name == outcome
    if outcome == "ok":
        assert answer.record == cadre(second[0])
    elif outcome == "replay":
        assert answer.record == cadre(first[0])
    if outcome != "ok":
        assert snapshot(redis_client) == before
    assert sorted(redis_client.hkeys(CADRES)) == stored
    assert redis_client.zrange(department_cadres_key("agri"), 0, -1) == stored
    assert outbox_types(redis_client) == ["assignment.cadre_registered"] * len(stored)


def test_create_record_without_an_event_announces_nothing(store, redis_client):
    inspection = {"id": "isp_1", "village_code": VILLAGE, "planned_by": "inspector:组"}
    assert store.add_inspection(inspection, request()).name == "ok"
    assert store.inspection("isp_1") == inspection
    assert redis_client.llen(OUTBOX) == 0


# --- start_assignment.lua -----------------------------------------------------------------------

def assignment(n: int, cadre_id: str = "cdr_1", village: str = VILLAGE, role: str = "member",
               starts: str = "2026-01-01", ends: str = "2026-12-31") -> dict:
    return {"id": f"asg_{n}", "status": "active", "cadre_id": cadre_id,
            "department_code": "agri", "village_code": village, "township_code": TOWNSHIP,
            "role": role, "starts_on": starts, "ends_on": ends}


def start(store, record: dict, key: str | None = None, body: str = "a"):
    return store.start_assignment(record, event(), request(key, {"body": body}))


@pytest.mark.parametrize("held, second, key, body, outcome", [
    # the held assignment (made with key "k", body "a"); the second, its key and body; outcome
    (dict(), dict(cadre_id="cdr_2"), None, "a", "ok"),
    (dict(), dict(village=OTHER_VILLAGE), None, "a", "cadre-already-assigned"),
    (dict(ends="2026-03-31"), dict(village=OTHER_VILLAGE, starts="2026-03-31"), None, "a",
     "cadre-already-assigned"),                                        # one shared day
    (dict(ends="2026-03-31"), dict(village=OTHER_VILLAGE, starts="2026-04-01"), None, "a",
     "ok"),
    (dict(role="leader"), dict(cadre_id="cdr_2", role="leader"), None, "a", "role-taken"),
    (dict(role="first_secretary"), dict(cadre_id="cdr_2", role="first_secretary"), None, "a",
     "role-taken"),
    (dict(role="leader", ends="2026-03-31"),
     dict(cadre_id="cdr_2", role="leader", starts="2026-04-01"), None, "a", "ok"),  # successor
    (dict(role="leader"), dict(cadre_id="cdr_2", role="first_secretary"), None, "a", "ok"),
    (dict(role="member"), dict(cadre_id="cdr_2", role="member"), None, "a", "ok"),
    (dict(), dict(cadre_id="cdr_2"), "k", "a", "replay"),              # the held one's key
    (dict(), dict(cadre_id="cdr_2"), "k", "b", "reused"),              # ... with another body
], ids=["another-cadre", "cadre-busy", "cadre-busy-one-day", "cadre-back-to-back",
        "leader-taken", "first-secretary-taken", "leader-successor", "other-role",
        "members", "replay", "reused"])
def test_start_assignment(store, redis_client, held, second, key, body, outcome):
    assert start(store, assignment(1, **held), key="k").name == "ok"
    before = snapshot(redis_client)
    answer = start(store, assignment(2, **second), key=key, body=body)
    assert answer.name == outcome
    if outcome == "ok":
        new = assignment(2, **second)
        assert answer.record == new
        assert redis_client.sismember(cadre_active_key(new["cadre_id"]), "asg_2")
        assert redis_client.sismember(village_active_key(new["village_code"]), "asg_2")
        assert redis_client.zscore(cadre_history_key(new["cadre_id"]), "asg_2") is not None
        assert redis_client.zscore(village_history_key(new["village_code"]), "asg_2") \
            is not None
        assert outbox_types(redis_client) == ["assignment.assignment_started"] * 2
        return
    if outcome in ("cadre-already-assigned", "role-taken"):
        assert answer.detail == "asg_1"
    if outcome == "replay":
        assert answer.record == assignment(1, **held)
    assert snapshot(redis_client) == before


def test_start_assignment_ignores_an_ended_assignment(store, redis_client):
    start(store, assignment(1, role="leader"))
    store.end_assignment({**assignment(1, role="leader"), "status": "ended"},
                         event("assignment.assignment_ended"), None, TODAY)
    assert start(store, assignment(2, cadre_id="cdr_1", role="leader")).name == "ok"


# --- end_assignment.lua -------------------------------------------------------------------------

@pytest.mark.parametrize("team, ending, outcome, events", [
    # the village's team (assignment kwargs), which one ends, its outcome, the events stored
    ([dict()], "asg_1", "ok", ["assignment.assignment_ended"]),
    ([dict(role="leader")], "asg_1", "ok-leaderless",
     ["assignment.assignment_ended", "assignment.village_leaderless"]),
    ([dict(role="leader", ends="2026-06-30"),
      dict(cadre_id="cdr_2", role="leader", starts="2026-07-01")], "asg_1", "ok-leaderless",
     ["assignment.assignment_ended", "assignment.village_leaderless"]),  # successor not yet
    ([dict(role="leader", ends="2026-06-14"),
      dict(cadre_id="cdr_2", role="leader", starts="2026-06-15")], "asg_1", "ok",
     ["assignment.assignment_ended"]),                                    # already leads
    ([dict(role="leader"), dict(cadre_id="cdr_2", role="member")], "asg_1", "ok-leaderless",
     ["assignment.assignment_ended", "assignment.village_leaderless"]),
    ([dict()], "asg_9", "not-found", []),
], ids=["member", "last-leader", "successor-later", "successor-today", "members-only-left",
        "unknown"])
def test_end_assignment(store, redis_client, team, ending, outcome, events):
    records = {f"asg_{n}": assignment(n, **kwargs) for n, kwargs in enumerate(team, start=1)}
    for record in records.values():
        assert start(store, record).name == "ok"
    redis_client.delete(OUTBOX)
    before = snapshot(redis_client)
    held = records.get(ending, assignment(9))
    ended = {**held, "status": "ended"}
    answer = store.end_assignment(ended, event("assignment.assignment_ended"),
                                  event("assignment.village_leaderless")
                                  if held["role"] == "leader" else None, TODAY)
    assert answer.name == outcome
    assert outbox_types(redis_client) == events
    if outcome == "not-found":
        assert snapshot(redis_client) == before
        return
    assert answer.record == ended and store.assignment(ending) == ended
    assert not redis_client.sismember(village_active_key(VILLAGE), ending)
    assert not redis_client.sismember(cadre_active_key(held["cadre_id"]), ending)
    assert redis_client.zscore(cadre_history_key(held["cadre_id"]), ending) is not None


def test_end_assignment_twice_is_not_active(store, redis_client):
    start(store, assignment(1))
    ended = {**assignment(1), "status": "ended"}
    assert store.end_assignment(ended, event("assignment.assignment_ended"), None,
                                TODAY).name == "ok"
    before = snapshot(redis_client)
    again = store.end_assignment({**ended, "status": "recalled"},
                                 event("assignment.assignment_ended"), None, TODAY)
    assert (again.name, again.record) == ("not-active", ended)
    assert snapshot(redis_client) == before


# --- log_work.lua -------------------------------------------------------------------------------

def work_log(n: int, day: str = "2026-06-01", task: str = "plan", households: int = 3,
             assignment_id: str = "asg_1") -> dict:
    return {"id": f"wlg_{n}", "assignment_id": assignment_id, "cadre_id": "cdr_1",
            "village_code": VILLAGE, "date": day, "task": task,
            "households_visited": households}


@pytest.mark.parametrize("second, key, body, outcome, counters, days", [
    # the second log, its key and body; outcome; the village's counters and days after
    (dict(), None, "b", "ok", {"entries:plan": "2", "households:plan": "6"}, 1),
    (dict(day="2026-06-02", task="dispute", households=2), None, "b", "ok",
     {"entries:plan": "1", "households:plan": "3", "entries:dispute": "1",
      "households:dispute": "2"}, 2),
    (dict(), "k", "a", "replay", {"entries:plan": "1", "households:plan": "3"}, 1),
    (dict(), "k", "b", "reused", {"entries:plan": "1", "households:plan": "3"}, 1),
    (dict(), None, "b", "not-active",                                  # asg_1 has ended
     {"entries:plan": "1", "households:plan": "3"}, 1),
], ids=["same-day", "other-day-and-task", "replay", "reused", "not-active"])
def test_log_work(store, redis_client, second, key, body, outcome, counters, days):
    start(store, assignment(1))
    assert store.log_work(work_log(1), event("assignment.work_logged"),
                          request("k", {"body": "a"})).name == "ok"
    if outcome == "not-active":
        assert store.end_assignment({**assignment(1), "status": "ended"},
                                    event("assignment.assignment_ended"), None,
                                    TODAY).name == "ok"
    before = snapshot(redis_client)
    answer = store.log_work(work_log(2, **second), event("assignment.work_logged"),
                            request(key, {"body": body}))
    assert answer.name == outcome
    for kind, key_of in (("village", VILLAGE), ("cadre", "cdr_1")):
        assert store.work_counters(kind, key_of) == (counters, days)
    if outcome == "ok":
        assert answer.record == work_log(2, **second)
        assert outbox_types(redis_client).count("assignment.work_logged") == 2
        return
    if outcome == "replay":
        assert answer.record == work_log(1)
    assert snapshot(redis_client) == before
    assert summary_keys("village", VILLAGE)[0] in before


# --- transition.lua -----------------------------------------------------------------------------

def problem(status: str = "open") -> dict:
    return {"id": "prb_1", "status": status, "village_code": VILLAGE, "township_code": TOWNSHIP,
            "reported_by": "admin"}


@pytest.mark.parametrize("problem_id, held_status, outcome", [
    ("prb_1", "open", "ok"),
    ("prb_1", "resolved", "wrong-status"),
    ("prb_9", "open", "not-found"),
], ids=["ok", "wrong-status", "not-found"])
def test_transition(store, redis_client, problem_id, held_status, outcome):
    store.add_problem(problem(), event("assignment.problem_reported"), request())
    if held_status == "resolved":
        store.resolve_problem(problem("resolved"), event("assignment.problem_resolved"))
    redis_client.delete(OUTBOX)
    before = snapshot(redis_client)
    resolved = {**problem("resolved"), "id": problem_id, "resolution": "修好了"}
    answer = store.resolve_problem(resolved, event("assignment.problem_resolved"))
    assert answer.name == outcome
    if outcome != "ok":
        if outcome == "wrong-status":
            assert answer.record == problem("resolved")
        assert snapshot(redis_client) == before
        return
    assert answer.record == resolved and store.problem("prb_1") == resolved
    assert redis_client.zrange(village_problems_key(VILLAGE, "open"), 0, -1) == []
    assert redis_client.zrange(village_problems_key(VILLAGE, "resolved"), 0, -1) == ["prb_1"]
    assert redis_client.zrange(village_problems_key(VILLAGE, "all"), 0, -1) == ["prb_1"]
    assert outbox_types(redis_client) == ["assignment.problem_resolved"]
    assert PROBLEMS in before


def test_transition_counts_each_absence_against_its_assignment(store, redis_client):
    planned = {"id": "isp_1", "status": "planned", "village_code": VILLAGE,
               "township_code": TOWNSHIP, "planned_by": "inspector:组"}
    store.add_inspection(planned, request())
    filed = {**planned, "status": "filed"}
    answer = store.file_inspection(filed, event("assignment.inspection_filed"),
                                   ["asg_1", "asg_2"])
    assert answer.name == "ok"
    assert redis_client.hgetall(ABSENCES) == {"asg_1": "1", "asg_2": "1"}
    assert store.township_filed_inspections(TOWNSHIP, None, 10)[0] == [filed]
    assert store.village_inspections(VILLAGE, True, None, 10)[0] == [filed]
    before = snapshot(redis_client)
    again = store.file_inspection({**filed, "report": "another"},
                                  event("assignment.inspection_filed"), ["asg_1"])
    assert (again.name, again.record) == ("wrong-status", filed)
    assert redis_client.hgetall(ABSENCES) == {"asg_1": "1", "asg_2": "1"}
    # the refused filing counted no absence, stored no record or event, moved no index
    assert snapshot(redis_client) == before
