"""The assignment service's Redis keys. Every write stores its event in the outbox atomically."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import redis

from services.common.contract.events import Envelope, county_today, utc_now
from services.common.contract.problems import conflict, idempotency_key_reused, not_found
from services.common.messaging.outbox import outbox_key, serialize, wake_relay
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.scripts import load_script

SERVICE = "assignment"
OUTBOX = outbox_key(SERVICE)

# kind -> (hash of code -> json record, sorted set of codes for paging)
DIRECTORY = {
    "township": ("assignment:townships", "assignment:townships:codes"),
    "village": ("assignment:villages", "assignment:villages:codes"),
    "department": ("assignment:departments", "assignment:departments:codes"),
}


def _township_villages_key(township_code: str) -> str:
    return f"assignment:township:{township_code}:villages"


IDEMPOTENCY_TTL = 60 * 60 * 24

CADRES = "assignment:cadres"
ASSIGNMENTS = "assignment:assignments"
WORK_LOGS = "assignment:work-logs"
PROBLEMS = "assignment:problems"
INSPECTIONS = "assignment:inspections"
ABSENCES = "assignment:absences"  # assignment id -> inspections the cadre was absent from


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


def village_problems_key(code: str, status: str) -> str:
    return f"assignment:village:{code}:problems:{status}"


def village_inspections_key(code: str, filed_only: bool) -> str:
    return f"assignment:village:{code}:inspections:{'filed' if filed_only else 'all'}"


def township_inspections_key(code: str) -> str:
    return f"assignment:township:{code}:inspections:filed"


def summary_keys(kind: str, key: str) -> tuple[str, str]:
    """(counters hash, set of days logged) of a cadre or a village."""
    return f"assignment:{kind}:{key}:work", f"assignment:{kind}:{key}:work-days"


def idempotency_key(scope: str, key: str | None) -> str:
    return f"assignment:idempotency:{scope}:{key or '-'}"


def _now_score() -> int:
    return int(time.time() * 1000)


def _json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False)


class AssignmentStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self._start_assignment = load_script(client, "services.assignment", "start_assignment")
        self._end_assignment = load_script(client, "services.assignment", "end_assignment")
        self._log_work = load_script(client, "services.assignment", "log_work")
        self._create_record = load_script(client, "services.assignment", "create_record")
        self._transition = load_script(client, "services.assignment", "transition")

    # --- directory ---------------------------------------------------------------------------

    def get(self, kind: str, code: str) -> dict | None:
        raw = self.redis.hget(DIRECTORY[kind][0], code)
        return json.loads(raw) if raw else None

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
                    pipe.hset(records, code, json.dumps(record, ensure_ascii=False))
                    pipe.zadd(codes, {code: 0})
                    if kind == "village":
                        if previous and previous["township_code"] != record["township_code"]:
                            pipe.zrem(_township_villages_key(previous["township_code"]), code)
                        pipe.zadd(_township_villages_key(record["township_code"]), {code: 0})
                    pipe.rpush(OUTBOX, serialize(event))
                    pipe.execute()
                    wake_relay(SERVICE, OUTBOX)
                    return record, previous is None
                except redis.WatchError:
                    continue

    def list(self, kind: str, after: str | None, limit: int,
             township_code: str | None = None) -> tuple[list[dict], str | None]:
        records, codes = DIRECTORY[kind]
        if township_code is not None:
            codes = _township_villages_key(township_code)
        start = f"({after}" if after else "-"
        page_codes = self.redis.zrangebylex(codes, start, "+", start=0, num=limit + 1)
        more = len(page_codes) > limit
        page_codes = page_codes[:limit]
        raws = self.redis.hmget(records, page_codes) if page_codes else []
        items = [json.loads(raw) for raw in raws if raw]
        return items, (page_codes[-1] if more else None)

    # --- records -----------------------------------------------------------------------------

    def record(self, records: str, record_id: str) -> dict | None:
        raw = self.redis.hget(records, record_id)
        return json.loads(raw) if raw else None

    def records(self, records: str, ids: list[str]) -> list[dict]:
        return [json.loads(raw) for raw in self.redis.hmget(records, ids) if raw] if ids else []

    def page(self, records: str, index: str, after: str | None, limit: int,
             newest_first: bool = False) -> tuple[list[dict], str | None]:
        """A page of records by an index sorted by creation; the cursor is the last id."""
        start = 0
        if after:
            rank = (self.redis.zrevrank if newest_first else self.redis.zrank)(index, after)
            start = rank + 1 if rank is not None else 0
        fetch = self.redis.zrevrange if newest_first else self.redis.zrange
        ids = fetch(index, start, start + limit)
        more = len(ids) > limit
        ids = ids[:limit]
        return self.records(records, ids), (ids[-1] if more and ids else None)

    def create(self, records: str, record: dict, indexes: list[str], event: Envelope | None,
               scope: str, request: IdempotentRequest) -> tuple[dict, bool]:
        """Store a new record with its indexes and event; returns (record, replayed)."""
        outcome, *rest = self._create_record(
            keys=[records, request.redis_key("assignment", scope), OUTBOX, *indexes],
            args=[record["id"], _json(record), serialize(event) if event else "", _now_score(),
                  *request.args()],
        )
        if outcome == "reused":
            raise idempotency_key_reused()
        if event is not None:
            wake_relay(SERVICE, OUTBOX)
        return json.loads(rest[0]), outcome == "replay"

    def transition(self, records: str, record_id: str, expected_status: str, updated: dict,
                   event: Envelope, add_to: tuple[str, ...] = (),
                   remove_from: tuple[str, ...] = (), absences: list[str] = ()) -> str:
        """Move a record forward; returns 'ok', 'not-found' or 'wrong-status'."""
        outcome, *_ = self._transition(
            keys=[records, OUTBOX, ABSENCES, *add_to, *remove_from],
            args=[record_id, expected_status, _json(updated), serialize(event), _now_score(),
                  len(add_to), *absences],
        )
        if outcome == "ok":
            wake_relay(SERVICE, OUTBOX)
        return outcome

    # --- assignments -------------------------------------------------------------------------

    def start_assignment(self, assignment: dict, event: Envelope, fingerprint: str,
                         key: str | None) -> tuple[dict, bool]:
        cadre, village = assignment["cadre_id"], assignment["village_code"]
        outcome, *rest = self._start_assignment(
            keys=[ASSIGNMENTS, cadre_active_key(cadre), village_active_key(village),
                  cadre_history_key(cadre), village_history_key(village),
                  idempotency_key("assignment", key), OUTBOX],
            args=[assignment["id"], _json(assignment), assignment["role"],
                  assignment["starts_on"], assignment["ends_on"], serialize(event), fingerprint,
                  IDEMPOTENCY_TTL, "1" if key else "0", _now_score()],
        )
        if outcome == "reused":
            raise idempotency_key_reused()
        if outcome == "cadre-already-assigned":
            raise conflict("cadre-already-assigned",
                           f"cadre {cadre} already has an active assignment ({rest[0]}) "
                           "whose dates overlap", assignment_id=rest[0])
        if outcome == "role-taken":
            raise conflict("role-taken",
                           f"village {village} already has an active "
                           f"{assignment['role']} ({rest[0]}) for those dates",
                           assignment_id=rest[0])
        wake_relay(SERVICE, OUTBOX)
        return json.loads(rest[0]), outcome == "replay"

    def end_assignment(self, ended: dict, event: Envelope,
                       leaderless_event: Envelope | None) -> tuple[dict, bool]:
        """Returns (ended assignment, village left leaderless)."""
        outcome, *rest = self._end_assignment(
            keys=[ASSIGNMENTS, cadre_active_key(ended["cadre_id"]),
                  village_active_key(ended["village_code"]), OUTBOX],
            args=[ended["id"], _json(ended), serialize(event),
                  serialize(leaderless_event) if leaderless_event else "",
                  county_today().isoformat()],
        )
        if outcome == "not-found":
            raise not_found("assignment", ended["id"])
        if outcome == "not-active":
            raise conflict("assignment-not-active",
                           f"assignment {ended['id']} has already ended")
        wake_relay(SERVICE, OUTBOX)
        return json.loads(rest[0]), outcome == "ok-leaderless"

    def active_assignments(self, village_code: str) -> list[dict]:
        return self.records(ASSIGNMENTS, sorted(self.redis.smembers(
            village_active_key(village_code))))

    def active_assignments_of_cadre(self, cadre_id: str) -> list[dict]:
        return self.records(ASSIGNMENTS, sorted(self.redis.smembers(cadre_active_key(cadre_id))))

    def absences(self, assignment_ids: list[str]) -> dict[str, int]:
        if not assignment_ids:
            return {}
        counts = self.redis.hmget(ABSENCES, assignment_ids)
        return {i: int(c or 0) for i, c in zip(assignment_ids, counts, strict=True)}

    # --- work --------------------------------------------------------------------------------

    def log_work(self, log: dict, event: Envelope, fingerprint: str,
                 key: str | None) -> tuple[dict, bool]:
        cadre_counters, cadre_days = summary_keys("cadre", log["cadre_id"])
        village_counters, village_days = summary_keys("village", log["village_code"])
        outcome, *rest = self._log_work(
            keys=[village_active_key(log["village_code"]),
                  f"assignment:assignment:{log['assignment_id']}:logs", WORK_LOGS,
                  cadre_counters, cadre_days, village_counters, village_days,
                  idempotency_key("work-log", key), OUTBOX],
            args=[log["assignment_id"], log["id"], _json(log), log["date"], log["task"],
                  log["households_visited"], serialize(event), fingerprint, IDEMPOTENCY_TTL,
                  "1" if key else "0", _now_score()],
        )
        if outcome == "reused":
            raise idempotency_key_reused()
        if outcome == "not-active":
            raise conflict("assignment-not-active",
                           f"assignment {log['assignment_id']} has ended; work is logged on "
                           "an active assignment")
        wake_relay(SERVICE, OUTBOX)
        return json.loads(rest[0]), outcome == "replay"

    def work_counters(self, kind: str, key: str) -> tuple[dict, int]:
        counters, days = summary_keys(kind, key)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(counters)
            pipe.scard(days)
            held, day_count = pipe.execute()
        return held, day_count
