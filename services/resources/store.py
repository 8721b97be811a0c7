"""The resources service's Redis keys and the Lua scripts that change them atomically.

Pool and idempotency keys of one department carry the hash tag `{dept:<code>}`; the scripts
also touch untagged keys (the outbox, the commitments hash), so this runs on one Redis, not yet
on a cluster.
"""
from __future__ import annotations

import json
import time
from importlib import resources as package_files

import redis

from services.common.directory import DirectoryProjection
from services.common.events import Envelope
from services.common.outbox import outbox_key, ring, serialize
from services.common.problems import Problem, conflict, invalid
from services.common.quantities import from_hundredths
from services.resources.domain import PoolBalance

SERVICE = "resources"
OUTBOX = outbox_key(SERVICE)
IDEMPOTENCY_TTL = 60 * 60 * 24  # a client retries within a day, as Stripe and others promise
COMMITMENTS = "resources:commitments"


def _script(client: redis.Redis, name: str):
    source = package_files.files("services.resources").joinpath("lua", f"{name}.lua").read_text()
    return client.register_script(source)


def _tag(department_code: str) -> str:
    return f"{{dept:{department_code}}}"


def pool_key(department_code: str, kind: str) -> str:
    return f"resources:{_tag(department_code)}:pool:{kind}"


def pool_kinds_key(department_code: str) -> str:
    return f"resources:{_tag(department_code)}:pool-kinds"


def idempotency_key(department_code: str, scope: str, key: str) -> str:
    return f"resources:{_tag(department_code)}:idempotency:{scope}:{key}"


def department_commitments_key(department_code: str) -> str:
    return f"resources:{_tag(department_code)}:commitments"


def village_commitments_key(village_code: str) -> str:
    return f"resources:village:{village_code}:commitments"


def _unit_mismatch(kind: str, held_unit: str) -> Problem:
    return invalid(f"this department counts {kind} in {held_unit!r}; use that unit",
                   ["body", "unit"], type="unit-mismatch")


def _key_reused() -> Problem:
    return conflict("idempotency-key-reused",
                    "this Idempotency-Key was already used with a different request body")


class ResourcesStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self.directory = DirectoryProjection(client, SERVICE)
        self._add_to_pool = _script(client, "add_to_pool")
        self._commit = _script(client, "commit")

    # --- pools -------------------------------------------------------------------------------

    def add_to_pool(self, department_code: str, kind: str, unit: str, amount: int,
                    event: Envelope, fingerprint: str, key: str | None) -> tuple[dict, bool]:
        """Returns (pool item, replayed)."""
        outcome, *rest = self._add_to_pool(
            keys=[pool_key(department_code, kind), pool_kinds_key(department_code),
                  idempotency_key(department_code, "pool", key or "-"), OUTBOX],
            args=[kind, unit, amount, fingerprint, serialize(event), IDEMPOTENCY_TTL,
                  "1" if key else "0"],
        )
        if outcome == "reused":
            raise _key_reused()
        if outcome == "unit-mismatch":
            raise _unit_mismatch(kind, rest[0])
        ring(SERVICE)
        unit, pooled, reserved, delivered = rest
        balance = PoolBalance(kind, unit, int(pooled), int(reserved), int(delivered))
        return balance.as_dict(department_code), outcome == "replay"

    def pool(self, department_code: str) -> list[dict]:
        kinds = sorted(self.redis.smembers(pool_kinds_key(department_code)))
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
        """Reserve and store a commitment; returns (commitment, replayed)."""
        department_code = commitment["department_code"]
        outcome, *rest = self._commit(
            keys=[pool_key(department_code, commitment["kind"]), COMMITMENTS,
                  department_commitments_key(department_code),
                  village_commitments_key(commitment["village_code"]),
                  idempotency_key(department_code, "commitment", key or "-"), OUTBOX],
            args=[commitment["id"], amount, commitment["unit"],
                  json.dumps(commitment, ensure_ascii=False), serialize(event), fingerprint,
                  IDEMPOTENCY_TTL, "1" if key else "0", int(time.time() * 1000)],
        )
        if outcome == "reused":
            raise _key_reused()
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
        ring(SERVICE)
        return json.loads(rest[0]), outcome == "replay"

    def commitment(self, commitment_id: str) -> dict | None:
        raw = self.redis.hget(COMMITMENTS, commitment_id)
        return json.loads(raw) if raw else None
