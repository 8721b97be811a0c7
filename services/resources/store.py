"""The resources service's Redis keys and the Lua scripts that change them atomically.

Each invariant lives in one Redis Cluster hash slot, with the outbox its events go to:
- a department's pools, commitments and their lifecycle: `{dept:<code>}`
  (reserved + delivered <= pooled; lifecycles only move forward);
- a village's needs and how much of each is committed: `{village:<code>}`
  (a need is never over-committed).
A commitment to a need holds the need first (village slot), then reserves from the pool
(department slot), and gives the hold back if the pool refuses. What follows a commitment's
later steps for its need and its village's totals is applied from the commitment's own
events, exactly once each.

Writes answer an `Outcome` (`services/common/storage/outcomes.py`): 'ok', 'replay' (an
Idempotency-Key's first answer) or why not, with the record and what a refusal needs to say
why. The use cases turn outcomes into answers; nothing here raises one.
"""
from __future__ import annotations

import json
import logging
import time
from typing import NamedTuple

import redis

from services.common.contract.events import Envelope
from services.common.messaging.outbox import register_outbox, serialize, wake_relay
from services.common.storage.directory_projection import DirectoryProjection
from services.common.storage.idempotent_requests import IdempotentRequest
from services.common.storage.outcomes import OK, REPLAY, Outcome
from services.common.storage.processed_events import PROCESSED_TTL
from services.common.storage.scripts import ScriptPipeline, load_script
from services.resources.domain import PoolBalance, VillageTotalsChange, need_view, ranking_score

log = logging.getLogger(__name__)

SERVICE = "resources"
COMMITMENT_DEPARTMENT = "resources:commitment-department"  # id -> department (to find it)
NEED_VILLAGE = "resources:need-village"  # need id -> village
RANKED_NEEDS = "resources:needs:ranked"  # needs not yet fulfilled, by ranking_score
ALL_COMMITMENTS = "resources:commitments:all"
PENDING_HOLDS = "resources:need-holds:pending"  # need hold -> when it was held (ms)
# A commitment is stored only this soon after its need was held (commit.lua, by Redis's
# clock), and the sweeper looks only at holds older than that and a margin: it never gives
# back the hold of a commitment that can still be stored.
HOLD_DEADLINE_MS = 20_000
SWEEP_AFTER_MS = HOLD_DEADLINE_MS + 10_000
SCRIPTS = ("add_to_pool", "commit", "earlier_commitment", "move_commitment", "raise_need",
           "hold_need", "settle_need_hold", "project_commitment")


def _dept(code: str) -> str:
    return f"resources:{{dept:{code}}}"


def _village(code: str) -> str:
    return f"resources:{{village:{code}}}"


def pool_key(department_code: str, kind: str) -> str:
    return f"{_dept(department_code)}:pool:{kind}"


def department_index(department_code: str, status: str = "all") -> str:
    return f"{_dept(department_code)}:commitments:{status}"


def village_index(village_code: str, status: str = "all") -> str:
    return f"{_village(village_code)}:commitments:{status}"


def township_index(township_code: str) -> str:
    return f"resources:{{township:{township_code}}}:commitments"


def need_hold(need_id: str, commitment_id: str) -> str:
    """A commitment's hold on a need, as the village's holds and the pending holds name it."""
    return f"{need_id}|{commitment_id}"


def need_hold_parts(hold: str) -> tuple[str, str]:
    """(need id, commitment id) of a `need_hold`."""
    need_id, commitment_id = hold.split("|", 1)
    return need_id, commitment_id


def _ranking(township: str | None) -> str:
    """The needs ranking of a township, or of the whole county (None)."""
    return f"{RANKED_NEEDS}:{township}" if township else RANKED_NEEDS


def _now_ms() -> int:
    return int(time.time() * 1000)


def _balance(kind: str, unit: str | None, pooled, reserved, delivered) -> PoolBalance:
    return PoolBalance(kind, unit or "", int(pooled or 0), int(reserved or 0),
                       int(delivered or 0))


class _Held(NamedTuple):
    village: str  # the need's
    at: int  # when, ms: the pending hold's score


class ResourcesStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self.directory = DirectoryProjection(client, SERVICE)
        self._scripts = {name: load_script(client, "services.resources", name)
                         for name in SCRIPTS}

    def _run(self, script: str, keys: list[str], args: list) -> list:
        return self._scripts[script](keys=keys, args=args)

    def _outbox(self, slot: str) -> str:
        return register_outbox(self.redis, SERVICE, f"{slot}:outbox")

    # --- pools -------------------------------------------------------------------------------

    def add_to_pool(self, department_code: str, kind: str, unit: str, amount: int,
                    event: Envelope, request: IdempotentRequest) -> Outcome:
        """'ok' or 'replay' with the PoolBalance after it; 'reused'; 'unit-mismatch' with the
        unit the pool counts this kind in (the detail)."""
        slot = _dept(department_code)
        outcome, *rest = self._run("add_to_pool", [
            pool_key(department_code, kind), f"{slot}:pool-kinds",
            request.redis_key(slot, "pool"), self._outbox(slot),
        ], [kind, unit, amount, serialize(event), *request.args()])
        if outcome == "unit-mismatch":
            return Outcome(outcome, detail=rest[0])
        if outcome in (OK, REPLAY):
            if outcome == OK:
                wake_relay(SERVICE, self._outbox(slot))
            return Outcome(outcome, _balance(kind, *rest))
        return Outcome(outcome)

    def pool(self, department_code: str) -> list[PoolBalance]:
        kinds = sorted(self.redis.smembers(f"{_dept(department_code)}:pool-kinds"))
        with self.redis.pipeline(transaction=False) as pipe:
            for kind in kinds:
                pipe.hgetall(pool_key(department_code, kind))
            rows = pipe.execute() if kinds else []
        return [_balance(kind, row.get("unit"), row.get("pooled"), row.get("reserved"),
                         row.get("delivered"))
                for kind, row in zip(kinds, rows, strict=True)]

    # --- commitments -------------------------------------------------------------------------

    def commit(self, commitment: dict, amount: int, event: Envelope,
               request: IdempotentRequest) -> Outcome:
        """Reserve and store a commitment, its need held first. 'ok' or 'replay' with the
        commitment; 'reused'; or a refusal with its detail: 'unit-mismatch' with the pool's
        unit, 'insufficient' with the PoolBalance, or a refusal of the need (see
        `hold_need`)."""
        slot = _dept(commitment["department_code"])
        answers = request.redis_key(slot, "commitment")
        held = None
        if commitment.get("need_id"):
            held = self._hold(commitment, amount, request, answers)
            if isinstance(held, Outcome):
                return held
        outcome, *rest = self._reserve(commitment, amount, event, request, answers, held)
        if outcome != OK:
            # refused (a hold held too long included), or a replay of an earlier commitment:
            # this one's hold goes back
            self._unreserved(commitment, held.village if held else None)
        elif held is not None:
            self._hold_kept(need_hold(commitment["need_id"], commitment["id"]))
        if outcome == OK:
            wake_relay(SERVICE, self._outbox(slot))
        if outcome in (OK, REPLAY):
            return Outcome(outcome, json.loads(rest[0]))
        if outcome == "insufficient":
            return Outcome(outcome, detail=_balance(commitment["kind"], commitment["unit"],
                                                    *rest))
        return Outcome(outcome, detail=rest[0] if rest else None)

    def _hold(self, commitment: dict, amount: int, request: IdempotentRequest,
              answers: str) -> _Held | Outcome:
        """Hold the commitment's need; or the answer, nothing held, when the key was answered
        before or the need refuses."""
        need_id = commitment["need_id"]
        slot = _dept(commitment["department_code"])
        hold, held_at = need_hold(need_id, commitment["id"]), _now_ms()
        # Until the pool answers, the hold is pending: if this process dies, or the answer is
        # lost, the sweeper finds out whether the commitment was stored. In the same round
        # trip: the need's village, and whether the key was answered before (a repeat gets
        # the first commitment, even when the need is full by now, and holds nothing). Reads;
        # the hold comes after them.
        with ScriptPipeline(self.redis) as pipe:
            pipe.zadd(PENDING_HOLDS, {hold: held_at})
            pipe.hget(NEED_VILLAGE, need_id)
            if request.key:
                pipe.script(self._scripts["earlier_commitment"],
                            [answers, f"{slot}:commitments"], request.args())
            _, village, *earlier = pipe.execute()
        if earlier and earlier[0][0] != "new":
            self.redis.zrem(PENDING_HOLDS, hold)
            name, *rest = earlier[0]
            return Outcome(name, json.loads(rest[0]) if rest else None)
        held = self.hold_need(village, need_id, commitment, amount)
        if held.name != OK:
            self.redis.zrem(PENDING_HOLDS, hold)
            return held
        return _Held(village, held_at)

    def _reserve(self, commitment: dict, amount: int, event: Envelope,
                 request: IdempotentRequest, answers: str, held: _Held | None) -> list:
        """commit.lua's answer: 'hold-expired' too when the need was held more than
        HOLD_DEADLINE_MS before."""
        department_code = commitment["department_code"]
        slot = _dept(department_code)
        keys = [pool_key(department_code, commitment["kind"]), f"{slot}:commitments",
                department_index(department_code),
                department_index(department_code, commitment["status"]), answers,
                self._outbox(slot)]
        args = [commitment["id"], amount, commitment["unit"],
                json.dumps(commitment, ensure_ascii=False), serialize(event), *request.args(),
                _now_ms(), held.at if held else "", HOLD_DEADLINE_MS]
        with ScriptPipeline(self.redis) as pipe:
            # The lookup is written before the script, in one round trip (Redis runs a
            # connection's commands in order): a stored commitment always has its lookup, so
            # `commitment()` finds it and the sweeper never gives back the hold of a stored
            # one. A refusal takes it out again (`_unreserved`); one left by a process that
            # died reads as absent. What refuses the HSET (OOM, a read-only replica, a failing
            # disk) refuses the script's writes too, and the HSET's error is the one raised.
            pipe.hset(COMMITMENT_DEPARTMENT, commitment["id"], department_code)
            pipe.script(self._scripts["commit"], keys, args)
            _, answer = pipe.execute()
        return answer

    def _unreserved(self, commitment: dict, village: str | None) -> None:
        """A commitment not stored (refused, or its request replayed: the id is this
        attempt's new one, never the replayed commitment's): its lookup goes and, with a need,
        its hold goes back and stops pending, in one round trip."""
        need_id = commitment.get("need_id")
        with ScriptPipeline(self.redis) as pipe:
            pipe.hdel(COMMITMENT_DEPARTMENT, commitment["id"])
            if village is not None:
                self._settle(pipe, village, need_id, commitment["id"], 0, 0)
                pipe.zrem(PENDING_HOLDS, need_hold(need_id, commitment["id"]))
            pipe.execute()
        if village is not None:
            self.rank_need(need_id, village)

    def _hold_kept(self, hold: str) -> None:
        """A stored commitment's hold stops pending. Best effort: the commitment is stored
        and its answer is due; a hold left pending is one the sweeper finds stored."""
        try:
            self.redis.zrem(PENDING_HOLDS, hold)
        except redis.RedisError:
            log.warning("a stored commitment's hold %s stays pending", hold, exc_info=True)

    def commitment(self, commitment_id: str) -> dict | None:
        department_code = self.redis.hget(COMMITMENT_DEPARTMENT, commitment_id)
        if department_code is None:
            return None
        raw = self.redis.hget(f"{_dept(department_code)}:commitments", commitment_id)
        return json.loads(raw) if raw else None

    def move_commitment(self, commitment: dict, from_status: str, moved: dict,
                        event: Envelope, reserved_change: int, delivered_change: int) -> Outcome:
        """Store one forward step of a commitment (only from `from_status`) with its pool
        settlement and its event: 'ok' with the moved commitment, 'not-found', or
        'wrong-status' with the commitment as it is."""
        department_code = commitment["department_code"]
        slot = _dept(department_code)
        outcome, *rest = self._run("move_commitment", [
            pool_key(department_code, commitment["kind"]), f"{slot}:commitments",
            department_index(department_code, from_status),
            department_index(department_code, moved["status"]), self._outbox(slot),
        ], [commitment["id"], from_status, json.dumps(moved, ensure_ascii=False),
            serialize(event), reserved_change, delivered_change, _now_ms()])
        if outcome == OK:
            wake_relay(SERVICE, self._outbox(slot))
        return Outcome(outcome, json.loads(rest[0]) if rest else None)

    # --- listing commitments -----------------------------------------------------------------

    def commitment_index(self, department: str | None = None, village: str | None = None,
                         township: str | None = None, status: str | None = None) -> str:
        """The index to list from: a department's or a village's (all, or one status), a
        township's (all statuses), or the county's (all statuses)."""
        if department:
            return department_index(department, status or "all")
        if village:
            return village_index(village, status or "all")
        if township:
            return township_index(township)
        return ALL_COMMITMENTS

    def position_after(self, index: str, after: str | None, highest_first: bool = False) -> int:
        """Where a page of the sorted set `index` that follows `after` starts (0: the first
        page, or an unknown id); `highest_first` for a set read highest score first (a needs
        ranking)."""
        if not after:
            return 0
        rank = (self.redis.zrevrank if highest_first else self.redis.zrank)(index, after)
        return rank + 1 if rank is not None else 0

    def commitment_ids(self, index: str, start: int, count: int) -> list[str]:
        """Ids in the index from position `start`, oldest first."""
        return self.redis.zrange(index, start, start + count - 1)

    def commitments(self, ids: list[str], department: str | None = None) -> list[dict]:
        """The commitments of `ids`, in that order (unknown ids left out), and only
        `department`'s when given (the others are not read): two round trips."""
        departments = self.redis.hmget(COMMITMENT_DEPARTMENT, ids) if ids else []
        wanted = [(i, d) for i, d in zip(ids, departments, strict=True)
                  if d is not None and department in (None, d)]
        with self.redis.pipeline(transaction=False) as pipe:
            for commitment_id, department_code in wanted:
                pipe.hget(f"{_dept(department_code)}:commitments", commitment_id)
            raws = pipe.execute() if wanted else []
        return [json.loads(raw) for raw in raws if raw]

    # --- a village's view of commitments (projected from the events) -------------------------

    def project_commitment(self, event: Envelope, previous_status: str | None,
                           change: VillageTotalsChange) -> bool:
        """Apply a commitment event to its village's view, once; False if it was already."""
        commitment = event.data
        village = commitment["village_code"]
        now = _now_ms()
        keys = [f"{_village(village)}:processed:{event.event_id}", f"{_village(village)}:totals",
                village_index(village), village_index(village, previous_status or "none"),
                village_index(village, commitment["status"])]
        args = [PROCESSED_TTL, commitment["id"], now,
                f"{commitment['kind']}|{commitment['unit']}", commitment["department_code"],
                change.committed, change.delivered, change.confirmed,
                "1" if previous_status else "0"]
        with ScriptPipeline(self.redis) as pipe:
            pipe.script(self._scripts["project_commitment"], keys, args)
            # listing indexes outside the village's slot, in the same round trip: adding is
            # idempotent (a redelivery adds nothing), order by time
            pipe.zadd(township_index(commitment["township_code"]), {commitment["id"]: now},
                      nx=True)
            pipe.zadd(ALL_COMMITMENTS, {commitment["id"]: now}, nx=True)
            applied, *_ = pipe.execute()
        return bool(applied)

    def village_totals(self, village_code: str) -> dict[str, str]:
        return self.redis.hgetall(f"{_village(village_code)}:totals")

    # --- needs -------------------------------------------------------------------------------

    def raise_need(self, need: dict, requested: int, event: Envelope,
                   request: IdempotentRequest, scope: str) -> Outcome:
        """Store a need: 'ok' or 'replay' with the need's view; 'reused'."""
        slot = _village(need["village_code"])
        keys = [f"{slot}:needs", f"{slot}:need-counters", f"{slot}:needs:index",
                request.redis_key(slot, f"need:{scope}"), self._outbox(slot)]
        args = [need["id"], json.dumps(need, ensure_ascii=False), requested, serialize(event),
                *request.args(), _now_ms()]
        with ScriptPipeline(self.redis) as pipe:
            # the lookup first, in the same round trip, as for a commitment
            pipe.hset(NEED_VILLAGE, need["id"], need["village_code"])
            pipe.script(self._scripts["raise_need"], keys, args)
            _, (outcome, *rest) = pipe.execute()
        if outcome == OK:
            wake_relay(SERVICE, self._outbox(slot))
            # the answer is what was written. If ranking it fails the caller gets 503 and a
            # retry with its Idempotency-Key replays, which ranks it: a new need is never
            # left out of the ranking departments read.
            view = need_view(need, requested, 0, 0)
            self._place(view)
            return Outcome(outcome, view)
        # a replay's id is the first need's: the lookup written for this attempt's new id goes
        self.redis.hdel(NEED_VILLAGE, need["id"])
        if outcome == REPLAY:
            return Outcome(outcome, self.rank_need(rest[0], need["village_code"]))
        return Outcome(outcome)

    def _needs_of_village(self, village: str, ids: list[str]) -> dict[str, dict]:
        return self._needs_of_villages({village: ids})

    def _needs_of_villages(self, wanted: dict[str, list[str]]) -> dict[str, dict]:
        """Needs by id, read from many villages in one round trip."""
        with self.redis.pipeline(transaction=False) as pipe:
            for village, ids in wanted.items():
                slot = _village(village)
                pipe.hmget(f"{slot}:needs", ids)
                pipe.hmget(f"{slot}:need-counters",
                           [f"{i}:{c}" for i in ids for c in ("requested", "committed",
                                                              "delivered")])
            replies = pipe.execute() if wanted else []
        needs = {}
        for ids, raws, counters in zip(wanted.values(), replies[::2], replies[1::2],
                                       strict=True):
            for n, (need_id, raw) in enumerate(zip(ids, raws, strict=True)):
                if raw:
                    requested, committed, delivered = (int(c or 0) for c in
                                                       counters[3 * n:3 * n + 3])
                    needs[need_id] = need_view(json.loads(raw), requested, committed,
                                               delivered)
        return needs

    def needs_of_village(self, village: str) -> list[dict]:
        ids = self.redis.zrange(f"{_village(village)}:needs:index", 0, -1)
        found = self._needs_of_village(village, ids) if ids else {}
        return [found[i] for i in ids if i in found]

    def rank_need(self, need_id: str, village: str) -> dict | None:
        """Put a need of `village` where it now ranks (or out, once fulfilled), and return its
        view. Done after each change of its counters: the ranking may trail a change by a
        moment, the counters never do."""
        need = self._needs_of_village(village, [need_id]).get(need_id)
        if need is not None:
            self._place(need)
        return need

    def _place(self, need: dict) -> None:
        """Put a need's view where it ranks, county-wide and in its township (out, once
        fulfilled)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for key in (_ranking(None), _ranking(need["township_code"])):
                if need["status"] == "fulfilled":
                    pipe.zrem(key, need["id"])
                else:
                    pipe.zadd(key, {need["id"]: ranking_score(need)})
            pipe.execute()

    def need_ranking(self, township: str | None) -> str:
        """The ranking of a township's unfulfilled needs, or the county's (None): hardest
        (highest) first."""
        return _ranking(township)

    def ranked_need_ids(self, township: str | None, start: int, count: int) -> list[str]:
        """Ids of unfulfilled needs from rank `start`, hardest first."""
        return self.redis.zrevrange(_ranking(township), start, start + count - 1)

    def ranked_needs(self, township: str | None, start: int, count: int) -> list[dict]:
        """Unfulfilled needs from rank `start`, hardest first."""
        return self.needs(self.ranked_need_ids(township, start, count))

    def needs(self, ids: list[str]) -> list[dict]:
        """The needs of `ids`, in that order (unknown ids left out): two round trips."""
        villages = self.redis.hmget(NEED_VILLAGE, ids) if ids else []
        wanted: dict[str, list[str]] = {}
        for need_id, village in zip(ids, villages, strict=True):
            if village:
                wanted.setdefault(village, []).append(need_id)
        found = self._needs_of_villages(wanted)
        return [found[i] for i in ids if i in found]

    def hold_need(self, village: str | None, need_id: str, commitment: dict,
                  amount: int) -> Outcome:
        """Count a commitment against its need, in the need's village (None: the need is
        unknown): 'ok'; 'unknown-need'; or a refusal with its detail: 'need-elsewhere' with
        the need's village, 'need-mismatch' with the need's (kind, unit), 'overcommitted'
        with the need's (requested, committed) in hundredths."""
        if village is None:
            return Outcome("unknown-need")
        slot = _village(village)
        outcome, *rest = self._run("hold_need", [
            f"{slot}:needs", f"{slot}:need-counters", f"{slot}:need-holds",
        ], [need_id, need_hold(need_id, commitment["id"]), amount, commitment["kind"],
            commitment["unit"], commitment["village_code"]])
        if outcome == OK:
            self.rank_need(need_id, village)
        if outcome == "need-mismatch":
            return Outcome(outcome, detail=tuple(rest))
        if outcome == "overcommitted":
            return Outcome(outcome, detail=tuple(int(n) for n in rest))
        return Outcome(outcome, detail=rest[0] if rest else None)

    def sweep_pending_holds(self, older_than_ms: int = SWEEP_AFTER_MS) -> int:
        """Give back holds whose commitment was never stored (its process died between the
        hold and the reservation, or stalled past HOLD_DEADLINE_MS, after which commit.lua
        refuses to store it); returns how many were given back. Their age is read on Redis's
        clock, as commit.lua reads it: a commitment stored and a hold given back never meet,
        whatever the skew of the service's clocks."""
        seconds, micros = self.redis.time()
        now = seconds * 1000 + micros // 1000
        given_back = 0
        for hold in self.redis.zrangebyscore(PENDING_HOLDS, "-inf", now - older_than_ms):
            need_id, commitment_id = need_hold_parts(hold)
            if self.commitment(commitment_id) is None:
                given_back += self.settle_need_hold(need_id, commitment_id, 0, 0)
            self.redis.zrem(PENDING_HOLDS, hold)
        return given_back

    def settle_need_hold(self, need_id: str, commitment_id: str, hold: int, delivered: int,
                         village: str | None = None) -> bool:
        """Change a commitment's hold on its need to `hold`, counting `delivered`; False when
        there was nothing to change (no such hold, or settled before). `village` is the
        need's (a commitment's own village is its need's: hold_need.lua saw to it), looked up
        when not given. The need is ranked again either way: a process that died between the
        settlement and the ranking has it repaired when the event comes again."""
        village = village or self.redis.hget(NEED_VILLAGE, need_id)
        if village is None:
            return False
        with ScriptPipeline(self.redis) as pipe:
            self._settle(pipe, village, need_id, commitment_id, hold, delivered)
            [changed] = pipe.execute()
        self.rank_need(need_id, village)
        return bool(changed)

    def _settle(self, pipe: ScriptPipeline, village: str, need_id: str, commitment_id: str,
                hold: int, delivered: int) -> None:
        slot = _village(village)
        pipe.script(self._scripts["settle_need_hold"],
                    [f"{slot}:need-counters", f"{slot}:need-holds"],
                    [need_id, need_hold(need_id, commitment_id), hold, delivered])
