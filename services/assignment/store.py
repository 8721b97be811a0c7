"""The assignment service's atomic store: its Redis keys and its five Lua scripts.

Every write stores its event in the outbox in the same step. A write answers an `Outcome`
(`services/common/storage/outcomes.py`: what happened, the record it concerns, the id of the
assignment in the way); the use cases turn a refusal into a problem. The rules that span
records (one active assignment per cadre at a time, one leader and one first secretary per
village, work only on an active assignment, a status only moves forward, an Idempotency-Key's
first answer) are the scripts' own: nothing here says them again.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis

from services.common.contract.events import Envelope, utc_now
from services.common.messaging.outbox import outbox_key, serialize, wake_relay
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import OK, Outcome
from services.common.storage.scripts import load_script

SERVICE = "assignment"
OUTBOX = outbox_key(SERVICE)

# kind -> (hash of code -> json record, sorted set of codes for paging)
DIRECTORY = {
    "township": ("assignment:townships", "assignment:townships:codes"),
    "village": ("assignment:villages", "assignment:villages:codes"),
    "department": ("assignment:departments", "assignment:departments:codes"),
}

CADRES = "assignment:cadres"
ASSIGNMENTS = "assignment:assignments"
WORK_LOGS = "assignment:work-logs"
PROBLEMS = "assignment:problems"
INSPECTIONS = "assignment:inspections"
ALL_INSPECTIONS = "assignment:inspections:all"
ABSENCES = "assignment:absences"  # assignment id -> inspections the cadre was absent from


def township_villages_key(township_code: str) -> str:
    return f"assignment:township:{township_code}:villages"


def department_cadres_key(code: str) -> str:
    return f"assignment:department:{code}:cadres"


def cadre_active_key(cadre_id: str) -> str:
    return f"assignment:cadre:{cadre_id}:active"


def cadre_history_key(cadre_id: str) -> str:
    return f"assignment:cadre:{cadre_id}:assignments"


def village_active_key(code: str) -> str:
    return f"assignment:village:{code}:active"


def village_history_key(code: str) -> str:
    return f"assignment:village:{code}:assignments"


def assignment_logs_key(assignment_id: str) -> str:
    return f"assignment:assignment:{assignment_id}:logs"


def village_problems_key(code: str, status: str) -> str:
    """`status` is open, resolved or all."""
    return f"assignment:village:{code}:problems:{status}"


def village_inspections_key(code: str, filed_only: bool) -> str:
    return f"assignment:village:{code}:inspections:{'filed' if filed_only else 'all'}"


def township_inspections_key(code: str) -> str:
    return f"assignment:township:{code}:inspections:filed"


def summary_keys(kind: str, key: str) -> tuple[str, str]:
    """(counters hash, set of days logged) of a cadre or a village."""
    return f"assignment:{kind}:{key}:work", f"assignment:{kind}:{key}:work-days"


Page = tuple[list[dict], str | None]  # records, and the cursor of the next page (or None)


def _answer(reply: list) -> Outcome:
    """Every script replies `{name, record JSON or false, detail or false}` (the detail: the
    id of the assignment in the way); Lua's false arrives as None."""
    name, record, detail = reply
    return Outcome(name, json.loads(record) if record is not None else None, detail)


def now_score() -> int:
    """The score a record is indexed by: the millisecond it is stored in."""
    return int(time.time() * 1000)


def _json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


class AssignmentStore:
    def __init__(self, client: redis.Redis, now_score: Callable[[], int] = now_score):
        """`now_score`: the clock records are indexed by (a test's may tick once a write)."""
        self.redis = client
        self._now_score = now_score
        self._start_assignment = load_script(client, "services.assignment", "start_assignment")
        self._end_assignment = load_script(client, "services.assignment", "end_assignment")
        self._log_work = load_script(client, "services.assignment", "log_work")
        self._create_record = load_script(client, "services.assignment", "create_record")
        self._transition = load_script(client, "services.assignment", "transition")

    def _wrote(self, outcome: Outcome, announced: bool = True) -> Outcome:
        """Tell the relay when a write put an event in the outbox."""
        if announced and outcome.name in (OK, "ok-leaderless"):
            wake_relay(SERVICE, OUTBOX)
        return outcome

    # --- directory ---------------------------------------------------------------------------

    def get(self, kind: str, code: str) -> dict | None:
        return self._record(DIRECTORY[kind][0], code)

    def upsert(self, kind: str, code: str, fields: dict,
               announce: Callable[[dict], Envelope]) -> tuple[dict, bool]:
        """Create or replace a directory entry; returns (record, created).

        `announce(record)` builds the event for the stored record; it goes to the outbox in the
        same transaction. The record's `revision` grows with every write so projections can
        ignore an older copy that arrives late.
        """
        records, codes = DIRECTORY[kind]
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(records)
                    previous_raw = pipe.hget(records, code)
                    previous = json.loads(previous_raw) if previous_raw else None
                    now = utc_now()
                    record = {
                        "code": code,
                        **fields,
                        "created_at": previous["created_at"] if previous else now,
                        "updated_at": now,
                        "revision": (previous["revision"] + 1) if previous else 1,
                    }
                    event = announce(record)
                    pipe.multi()
                    pipe.hset(records, code, _json(record))
                    pipe.zadd(codes, {code: 0})
                    if kind == "village":
                        if previous and previous["township_code"] != record["township_code"]:
                            pipe.zrem(township_villages_key(previous["township_code"]), code)
                        pipe.zadd(township_villages_key(record["township_code"]), {code: 0})
                    pipe.rpush(OUTBOX, serialize(event))
                    pipe.execute()
                    wake_relay(SERVICE, OUTBOX)
                    return record, previous is None
                except redis.WatchError:
                    continue

    def list(self, kind: str, after: str | None, limit: int,
             township_code: str | None = None) -> Page:
        """A page of directory entries by code (villages: only a township's, if named)."""
        records, codes = DIRECTORY[kind]
        if township_code is not None:
            codes = township_villages_key(township_code)
        start = f"({after}" if after else "-"
        page_codes = self.redis.zrangebylex(codes, start, "+", start=0, num=limit + 1)
        more = len(page_codes) > limit
        page_codes = page_codes[:limit]
        raws = self.redis.hmget(records, page_codes) if page_codes else []
        items = [json.loads(raw) for raw in raws if raw]
        return items, (page_codes[-1] if more else None)

    # --- reading records ---------------------------------------------------------------------

    def _record(self, records: str, record_id: str) -> dict | None:
        raw = self.redis.hget(records, record_id)
        return json.loads(raw) if raw else None

    def _records(self, records: str, ids: list[str]) -> list[dict]:
        return [json.loads(raw) for raw in self.redis.hmget(records, ids) if raw] if ids else []

    def _page(self, records: str, index: str, after: str | None, limit: int,
              newest_first: bool = False) -> Page:
        """A page of records by an index sorted by creation; the cursor is the last id."""
        start = 0
        if after:
            rank = (self.redis.zrevrank if newest_first else self.redis.zrank)(index, after)
            start = rank + 1 if rank is not None else 0
        fetch = self.redis.zrevrange if newest_first else self.redis.zrange
        ids = fetch(index, start, start + limit)
        more = len(ids) > limit
        ids = ids[:limit]
        return self._records(records, ids), (ids[-1] if more and ids else None)

    def cadre(self, cadre_id: str) -> dict | None:
        return self._record(CADRES, cadre_id)

    def assignment(self, assignment_id: str) -> dict | None:
        return self._record(ASSIGNMENTS, assignment_id)

    def problem(self, problem_id: str) -> dict | None:
        return self._record(PROBLEMS, problem_id)

    def inspection(self, inspection_id: str) -> dict | None:
        return self._record(INSPECTIONS, inspection_id)

    def cadres_of_department(self, department_code: str, after: str | None,
                             limit: int) -> Page:
        return self._page(CADRES, department_cadres_key(department_code), after, limit)

    def assignments_of_cadre(self, cadre_id: str, after: str | None, limit: int) -> Page:
        """Every assignment the cadre ever had, newest first."""
        return self._page(ASSIGNMENTS, cadre_history_key(cadre_id), after, limit,
                          newest_first=True)

    def problems_of_village(self, village_code: str, status: str | None, after: str | None,
                            limit: int) -> Page:
        return self._page(PROBLEMS, village_problems_key(village_code, status or "all"), after,
                          limit)

    def all_inspections(self, after: str | None, limit: int) -> Page:
        return self._page(INSPECTIONS, ALL_INSPECTIONS, after, limit)

    def village_inspections(self, village_code: str, filed_only: bool, after: str | None,
                            limit: int) -> Page:
        return self._page(INSPECTIONS, village_inspections_key(village_code, filed_only), after,
                          limit)

    def township_filed_inspections(self, township_code: str, after: str | None,
                                   limit: int) -> Page:
        """A township's filed inspections (its planned ones are in no township index)."""
        return self._page(INSPECTIONS, township_inspections_key(township_code), after, limit)

    def active_assignments(self, village_code: str) -> list[dict]:
        return self._records(ASSIGNMENTS, sorted(self.redis.smembers(
            village_active_key(village_code))))

    def active_assignments_of_cadre(self, cadre_id: str) -> list[dict]:
        return self._records(ASSIGNMENTS, sorted(self.redis.smembers(cadre_active_key(cadre_id))))

    def absences(self, assignment_ids: list[str]) -> dict[str, int]:
        """How many filed inspections found each assignment's cadre absent."""
        if not assignment_ids:
            return {}
        counts = self.redis.hmget(ABSENCES, assignment_ids)
        return {i: int(c or 0) for i, c in zip(assignment_ids, counts, strict=True)}

    def work_counters(self, kind: str, key: str) -> tuple[dict, int]:
        """A cadre's or village's work counters and how many days were logged."""
        counters, days = summary_keys(kind, key)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(counters)
            pipe.scard(days)
            held, day_count = pipe.execute()
        return held, day_count

    # --- records created on a request (create_record.lua) ------------------------------------

    def _create(self, records: str, record: dict, indexes: list[str], event: Envelope | None,
                scope: str, request: IdempotentRequest) -> Outcome:
        """`ok` (stored with its indexes and event), `replay` or `reused`."""
        return self._wrote(_answer(self._create_record(
            keys=[records, request.redis_key(SERVICE, scope), OUTBOX, *indexes],
            args=[record["id"], _json(record), serialize(event) if event else "", self._now_score(),
                  *request.args()],
        )), announced=event is not None)

    def add_cadre(self, cadre: dict, event: Envelope | None,
                  request: IdempotentRequest) -> Outcome:
        """A key repeats within the cadre's department."""
        department = cadre["department_code"]
        return self._create(CADRES, cadre, [department_cadres_key(department)], event,
                            f"cadre:{department}", request)

    def add_problem(self, problem: dict, event: Envelope, request: IdempotentRequest) -> Outcome:
        """A key repeats for the same reporter in the same village."""
        village = problem["village_code"]
        return self._create(PROBLEMS, problem, [village_problems_key(village, "open"),
                                                village_problems_key(village, "all")],
                            event, f"problem:{problem['reported_by']}:{village}", request)

    def add_inspection(self, inspection: dict, request: IdempotentRequest) -> Outcome:
        """A planned inspection announces nothing and enters no index a township reads."""
        return self._create(INSPECTIONS, inspection,
                            [ALL_INSPECTIONS,
                             village_inspections_key(inspection["village_code"], filed_only=False)],
                            None, f"inspection:{inspection['planned_by']}", request)

    # --- status changes (transition.lua) -----------------------------------------------------

    def _move(self, records: str, record_id: str, expected_status: str, updated: dict,
              event: Envelope, add_to: tuple[str, ...] = (), remove_from: tuple[str, ...] = (),
              absences: list[str] = ()) -> Outcome:
        """`ok`, `not-found` or `wrong-status` (with the record held)."""
        return self._wrote(_answer(self._transition(
            keys=[records, OUTBOX, ABSENCES, *add_to, *remove_from],
            args=[record_id, expected_status, _json(updated), serialize(event), self._now_score(),
                  len(add_to), *absences],
        )))

    def resolve_problem(self, resolved: dict, event: Envelope) -> Outcome:
        """An open problem becomes `resolved`."""
        village = resolved["village_code"]
        return self._move(PROBLEMS, resolved["id"], "open", resolved, event,
                          add_to=(village_problems_key(village, "resolved"),),
                          remove_from=(village_problems_key(village, "open"),))

    def file_inspection(self, filed: dict, event: Envelope,
                        absent_assignments: list[str]) -> Outcome:
        """A planned inspection becomes `filed`: its village's and township's filed indexes
        get it, and each absent cadre's assignment counts one more absence."""
        return self._move(INSPECTIONS, filed["id"], "planned", filed, event,
                          add_to=(village_inspections_key(filed["village_code"], filed_only=True),
                                  township_inspections_key(filed["township_code"])),
                          absences=absent_assignments)

    # --- assignments and work ----------------------------------------------------------------

    def start_assignment(self, assignment: dict, event: Envelope,
                         request: IdempotentRequest) -> Outcome:
        """`ok`, `replay`, `reused`, `cadre-already-assigned` or `role-taken` (with the
        assignment in the way). A key repeats within the cadre's department."""
        cadre, village = assignment["cadre_id"], assignment["village_code"]
        return self._wrote(_answer(self._start_assignment(
            keys=[ASSIGNMENTS, cadre_active_key(cadre), village_active_key(village),
                  cadre_history_key(cadre), village_history_key(village),
                  request.redis_key(SERVICE, f"assignment:{assignment['department_code']}"),
                  OUTBOX],
            args=[assignment["id"], _json(assignment), assignment["role"],
                  assignment["starts_on"], assignment["ends_on"], serialize(event),
                  self._now_score(), *request.args()],
        )))

    def end_assignment(self, ended: dict, event: Envelope, leaderless_event: Envelope | None,
                       today: str) -> Outcome:
        """`ok`, `ok-leaderless` (no other leader leads the village `today`: the
        leaderless event was stored too), `not-found` or `not-active` (with the record held)."""
        return self._wrote(_answer(self._end_assignment(
            keys=[ASSIGNMENTS, cadre_active_key(ended["cadre_id"]),
                  village_active_key(ended["village_code"]), OUTBOX],
            args=[ended["id"], _json(ended), serialize(event),
                  serialize(leaderless_event) if leaderless_event else "", today],
        )))

    def log_work(self, log: dict, event: Envelope, request: IdempotentRequest) -> Outcome:
        """`ok`, `replay`, `reused` or `not-active`. A key repeats within the assignment."""
        cadre_counters, cadre_days = summary_keys("cadre", log["cadre_id"])
        village_counters, village_days = summary_keys("village", log["village_code"])
        assignment = log["assignment_id"]
        return self._wrote(_answer(self._log_work(
            keys=[village_active_key(log["village_code"]), assignment_logs_key(assignment),
                  WORK_LOGS, cadre_counters, cadre_days, village_counters, village_days,
                  request.redis_key(SERVICE, f"work-log:{assignment}"), OUTBOX],
            args=[assignment, log["id"], _json(log), log["date"], log["task"],
                  log["households_visited"], serialize(event), self._now_score(), *request.args()],
        )))
