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
"""
from __future__ import annotations

import json
import time

import redis

from services.common.contract.events import Envelope
from services.common.contract.problems import (
    Problem,
    conflict,
    idempotency_key_reused,
    invalid,
    not_found,
)
from services.common.messaging.outbox import register_outbox, serialize, wake_relay
from services.common.storage.directory_projection import DirectoryProjection
from services.common.storage.processed_events import PROCESSED_TTL
from services.common.storage.scripts import ScriptPipeline, load_script
from services.common.values.quantities import from_hundredths
from services.resources.domain import PoolBalance, VillageTotalsChange, need_view, ranking_score

SERVICE = "resources"
IDEMPOTENCY_TTL = 60 * 60 * 24  # a client retries within a day
COMMITMENT_DEPARTMENT = "resources:commitment-department"  # id -> department (to find it)
NEED_VILLAGE = "resources:need-village"  # need id -> village
RANKED_NEEDS = "resources:needs:ranked"  # needs not yet fulfilled, by ranking_score
ALL_COMMITMENTS = "resources:commitments:all"
PENDING_HOLDS = "resources:need-holds:pending"  # need|commitment -> when it was held (ms)


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


def _ranking(township: str | None) -> str:
    """The needs ranking of a township, or of the whole county (None)."""
    return f"{RANKED_NEEDS}:{township}" if township else RANKED_NEEDS


def _now_ms() -> int:
    return int(time.time() * 1000)


def _unit_mismatch(kind: str, held_unit: str) -> Problem:
    return invalid(f"this department counts {kind} in {held_unit!r}; use that unit",
                   ["body", "unit"], type="unit-mismatch")


class ResourcesStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self.directory = DirectoryProjection(client, SERVICE)
        self._scripts = {name: load_script(client, "services.resources", name) for name in (
            "add_to_pool", "commit", "move_commitment", "raise_need", "hold_need",
            "settle_need_hold", "project_commitment")}

    def _run(self, script: str, keys: list[str], args: list) -> list:
        return self._scripts[script](keys=keys, args=args)

    def _outbox(self, slot: str) -> str:
        return register_outbox(self.redis, SERVICE, f"{slot}:outbox")

    # --- pools -------------------------------------------------------------------------------

    def add_to_pool(self, department_code: str, kind: str, unit: str, amount: int,
                    event: Envelope, fingerprint: str, key: str | None) -> tuple[dict, bool]:
        """Returns (pool item, replayed)."""
        slot = _dept(department_code)
        outcome, *rest = self._run("add_to_pool", [
            pool_key(department_code, kind), f"{slot}:pool-kinds",
            f"{slot}:idempotency:pool:{key or '-'}", self._outbox(slot),
        ], [kind, unit, amount, fingerprint, serialize(event), IDEMPOTENCY_TTL,
            "1" if key else "0"])
        if outcome == "reused":
            raise idempotency_key_reused()
        if outcome == "unit-mismatch":
            raise _unit_mismatch(kind, rest[0])
        wake_relay(SERVICE, self._outbox(slot))
        unit, pooled, reserved, delivered = rest
        balance = PoolBalance(kind, unit, int(pooled), int(reserved), int(delivered))
        return balance.as_dict(department_code), outcome == "replay"

    def pool(self, department_code: str) -> list[dict]:
        kinds = sorted(self.redis.smembers(f"{_dept(department_code)}:pool-kinds"))
        with self.redis.pipeline(transaction=False) as pipe:
            for kind in kinds:
                pipe.hgetall(pool_key(department_code, kind))
            rows = pipe.execute() if kinds else []
        return [
            PoolBalance(kind, row["unit"], int(row.get("pooled", 0)), int(row.get("reserved", 0)),
                        int(row.get("delivered", 0))).as_dict(department_code)
            for kind, row in zip(kinds, rows, strict=True)
        ]

    # --- commitments -------------------------------------------------------------------------

    def commit(self, commitment: dict, amount: int, event: Envelope, fingerprint: str,
               key: str | None) -> tuple[dict, bool]:
        """Reserve and store a commitment (its need held first); returns (commitment,
        replayed)."""
        department_code = commitment["department_code"]
        slot = _dept(department_code)
        idempotency = f"{slot}:idempotency:commitment:{key or '-'}"
        need_id = commitment.get("need_id")
        if need_id and key:
            # a replay answers with the first commitment before the need is looked at again
            replay = self._replay(slot, idempotency, fingerprint)
            if replay is not None:
                return replay, True
        hold = f"{need_id}|{commitment['id']}"
        if need_id:
            # until the pool answers, the hold is pending: if this process dies, or the answer
            # is lost, the sweeper finds out whether the commitment was stored. The need's
            # village is read in the same round trip (a read; the hold comes after both).
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.zadd(PENDING_HOLDS, {hold: _now_ms()})
                pipe.hget(NEED_VILLAGE, need_id)
                _, village = pipe.execute()
            try:
                self._hold_need_of(village, need_id, commitment, amount)
            except Problem:
                self.redis.zrem(PENDING_HOLDS, hold)
                raise
        keys = [pool_key(department_code, commitment["kind"]), f"{slot}:commitments",
                department_index(department_code), department_index(department_code, "committed"),
                idempotency, self._outbox(slot)]
        args = [commitment["id"], amount, commitment["unit"],
                json.dumps(commitment, ensure_ascii=False), serialize(event), fingerprint,
                IDEMPOTENCY_TTL, "1" if key else "0", _now_ms()]
        with ScriptPipeline(self.redis) as pipe:
            # The lookup is written before the script, in one round trip (Redis runs a
            # connection's commands in order): a stored commitment always has its lookup, so
            # `commitment()` finds it and the sweeper never gives back the hold of a stored
            # one. A lookup without a commitment (refused, or the process died) reads as absent.
            # What refuses the HSET (OOM, a read-only replica, a failing disk) refuses the
            # script's writes too, and the HSET's error is the one raised, as before.
            pipe.hset(COMMITMENT_DEPARTMENT, commitment["id"], department_code)
            pipe.script(self._scripts["commit"], keys, args)
            _, (outcome, *rest) = pipe.execute()
        if need_id:
            if outcome != "ok":
                # refused, or a replay of an earlier commitment: this one's hold goes back
                self.settle_need_hold(need_id, commitment["id"], 0, 0)
            self.redis.zrem(PENDING_HOLDS, hold)
        if outcome == "reused":
            raise idempotency_key_reused()
        if outcome == "unit-mismatch":
            raise _unit_mismatch(commitment["kind"], rest[0])
        if outcome == "insufficient":
            available = from_hundredths(rest[0])
            raise conflict(
                "insufficient-pool",
                f"{department_code} has {available} {commitment['unit']} of "
                f"{commitment['kind']} available, less than the {commitment['quantity']} asked",
                available=available,
            )
        wake_relay(SERVICE, self._outbox(slot))
        return json.loads(rest[0]), outcome == "replay"

    def _replay(self, slot: str, idempotency: str, fingerprint: str) -> dict | None:
        held = self.redis.get(idempotency)
        if held is None:
            return None
        record = json.loads(held)
        if record["fingerprint"] != fingerprint:
            raise idempotency_key_reused()
        raw = self.redis.hget(f"{slot}:commitments", record["id"])
        return json.loads(raw) if raw else None

    def commitment(self, commitment_id: str) -> dict | None:
        department_code = self.redis.hget(COMMITMENT_DEPARTMENT, commitment_id)
        if department_code is None:
            return None
        raw = self.redis.hget(f"{_dept(department_code)}:commitments", commitment_id)
        return json.loads(raw) if raw else None

    def move_commitment(self, commitment: dict, from_status: str, moved: dict,
                        event: Envelope, reserved_change: int, delivered_change: int) -> dict:
        """Store one forward step of a commitment (only from `from_status`) with its pool
        settlement and its event."""
        department_code = commitment["department_code"]
        slot = _dept(department_code)
        outcome, *rest = self._run("move_commitment", [
            pool_key(department_code, commitment["kind"]), f"{slot}:commitments",
            department_index(department_code, from_status),
            department_index(department_code, moved["status"]), self._outbox(slot),
        ], [commitment["id"], from_status, json.dumps(moved, ensure_ascii=False),
            serialize(event), reserved_change, delivered_change, _now_ms()])
        if outcome == "not-found":
            raise not_found("commitment", commitment["id"])
        if outcome == "wrong-status":
            now = json.loads(rest[0])["status"]
            raise conflict("commitment-not-" + from_status,
                           f"commitment {commitment['id']} is {now}; lifecycles only move "
                           "forward (committed → delivered → confirmed, or committed → "
                           "cancelled)", current_status=now)
        wake_relay(SERVICE, self._outbox(slot))
        return json.loads(rest[0])

    def commitments(self, index: str, after: str | None, limit: int) -> tuple[list, str | None]:
        start = 0
        if after:
            rank = self.redis.zrank(index, after)
            start = rank + 1 if rank is not None else 0
        ids = self.redis.zrange(index, start, start + limit)
        more = len(ids) > limit
        ids = ids[:limit]
        found = [self.commitment(commitment_id) for commitment_id in ids]
        return [c for c in found if c], (ids[-1] if more and ids else None)

    # --- a village's view of commitments (projected from the events) -------------------------

    def project_commitment(self, event: Envelope, previous_status: str | None,
                           change: VillageTotalsChange) -> bool:
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

    def raise_need(self, need: dict, requested: int, event: Envelope, fingerprint: str,
                   key: str | None, scope: str) -> tuple[str, bool]:
        """Store a need; returns (need id, replayed)."""
        slot = _village(need["village_code"])
        self.redis.hset(NEED_VILLAGE, need["id"], need["village_code"])
        outcome, *rest = self._run("raise_need", [
            f"{slot}:needs", f"{slot}:need-counters", f"{slot}:needs:index",
            f"{slot}:idempotency:need:{scope}:{key or '-'}", self._outbox(slot),
        ], [need["id"], json.dumps(need, ensure_ascii=False), requested, serialize(event),
            fingerprint, IDEMPOTENCY_TTL, "1" if key else "0", _now_ms()])
        if outcome == "reused":
            raise idempotency_key_reused()
        need_id = rest[0]
        self.rank_need(need_id)
        wake_relay(SERVICE, self._outbox(slot))
        return need_id, outcome == "replay"

    def need(self, need_id: str) -> dict | None:
        village = self.redis.hget(NEED_VILLAGE, need_id)
        if village is None:
            return None
        return self._needs_of_village(village, [need_id]).get(need_id)

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

    def rank_need(self, need_id: str, village: str | None = None) -> None:
        """Put a need where it now ranks (or out, once fulfilled). Done after each change of
        its counters: the ranking may trail a change by a moment, the counters never do.
        `village`: the need's, when the caller has read it already (a need never moves)."""
        need = (self._needs_of_village(village, [need_id]).get(need_id) if village
                else self.need(need_id))
        if need is None:
            return
        keys = (_ranking(None), _ranking(need["township_code"]))
        with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                if need["status"] == "fulfilled":
                    pipe.zrem(key, need_id)
                else:
                    pipe.zadd(key, {need_id: ranking_score(need)})
            pipe.execute()

    def ranked_needs(self, township: str | None, start: int, count: int) -> list[dict]:
        """Unfulfilled needs from rank `start`, hardest first."""
        ids = self.redis.zrevrange(_ranking(township), start, start + count - 1)
        villages = self.redis.hmget(NEED_VILLAGE, ids) if ids else []
        wanted: dict[str, list[str]] = {}
        for need_id, village in zip(ids, villages, strict=True):
            if village:
                wanted.setdefault(village, []).append(need_id)
        found = self._needs_of_villages(wanted)
        return [found[i] for i in ids if i in found]

    def need_rank(self, township: str | None, need_id: str) -> int | None:
        return self.redis.zrevrank(_ranking(township), need_id)

    def hold_need(self, need_id: str, commitment: dict, amount: int) -> None:
        self._hold_need_of(self.redis.hget(NEED_VILLAGE, need_id), need_id, commitment, amount)

    def _hold_need_of(self, village: str | None, need_id: str, commitment: dict,
                      amount: int) -> None:
        """`hold_need`, the need's village (None: no such need) read by the caller."""
        if village is None:
            raise invalid(f"need {need_id} does not exist", ["body", "need_id"],
                          type="unknown-need")
        if village != commitment["village_code"]:
            raise invalid(f"need {need_id} is a need of village {village}",
                          ["body", "need_id"], type="need-mismatch")
        slot = _village(village)
        outcome, *rest = self._run("hold_need", [
            f"{slot}:needs", f"{slot}:need-counters", f"{slot}:need-holds",
        ], [need_id, commitment["id"], amount, commitment["kind"], commitment["unit"]])
        if outcome == "unknown-need":
            raise invalid(f"need {need_id} does not exist", ["body", "need_id"],
                          type="unknown-need")
        if outcome == "need-mismatch":
            raise invalid(f"need {need_id} is for {rest[0]} counted in {rest[1]}",
                          ["body", "kind"], type="need-mismatch")
        if outcome == "overcommitted":
            lacking = from_hundredths(rest[0])
            raise conflict("need-overcommitted",
                           f"need {need_id} still lacks {lacking} {commitment['unit']}, less "
                           f"than the {commitment['quantity']} offered", lacking=lacking)
        self.rank_need(need_id, village)

    def sweep_pending_holds(self, older_than_ms: int = 30_000) -> int:
        """Give back holds whose commitment was never stored (its process died between the
        hold and the reservation); returns how many were given back."""
        given_back = 0
        for hold in self.redis.zrangebyscore(PENDING_HOLDS, "-inf", _now_ms() - older_than_ms):
            need_id, commitment_id = hold.split("|", 1)
            if self.commitment(commitment_id) is None:
                self.settle_need_hold(need_id, commitment_id, 0, 0)
                given_back += 1
            self.redis.zrem(PENDING_HOLDS, hold)
        return given_back

    def settle_need_hold(self, need_id: str, commitment_id: str, hold: int,
                         delivered: int) -> None:
        village = self.redis.hget(NEED_VILLAGE, need_id)
        if village is None:
            return
        slot = _village(village)
        if self._run("settle_need_hold", [f"{slot}:need-counters", f"{slot}:need-holds"],
                     [need_id, commitment_id, hold, delivered]):
            self.rank_need(need_id, village)
