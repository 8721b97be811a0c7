"""A service's own copy of the directory it needs, kept from the assignment service's events.

Services never read each other's keys: resources and notifications each project
`assignment.*_registered` events into their own hash. A miss (a village registered a moment
ago, its event not yet here) falls back to an RPC to the assignment service, the owner.

Every commitment and every notification looks up a village, a township or a department, and
these records almost never change: each process keeps the ones it found for a few seconds, so
the hot paths do not ask Redis for them hundreds of times a second. An event this process
applies replaces its copy at once; a change applied by another replica (a village moved to
another township, a rename) shows here within CACHE_SECONDS, no later than it would if the
event itself were that much behind. A copy never replaces a newer revision.
"""
from __future__ import annotations

import json

import redis
from cachetools import TTLCache

from services.common.contract.events import Envelope
from services.common.storage.scripts import load_script

KINDS = {
    # no queue subscribes to it now, but a broker declared before still routes it here
    "assignment.township_registered": "township",
    "assignment.village_registered": "village",
    "assignment.department_registered": "department",
}

CACHE_SECONDS = 5
CACHE_SIZE = 50_000  # a province: 1,500 townships and 17,000 villages, with room to spare


class DirectoryProjection:
    def __init__(self, client: redis.Redis, service: str):
        self.redis = client
        self.service = service
        # lua/upsert_if_newer.lua: a record only replaces an older revision
        self._upsert = load_script(client, "services.common.storage", "upsert_if_newer")
        # only records found: a miss is asked again (a village registered a moment ago)
        self._found: TTLCache = TTLCache(CACHE_SIZE, CACHE_SECONDS)

    def _key(self, kind: str) -> str:
        return f"{self.service}:directory:{kind}"

    def apply(self, envelope: Envelope) -> bool:
        """Project a directory event; idempotent (a redelivery finds its revision held), and an
        older revision never replaces a newer."""
        kind = KINDS[envelope.type]
        record = envelope.data
        applied = bool(self._upsert(
            keys=[self._key(kind)],
            args=[record["code"], json.dumps(record, ensure_ascii=False), record["revision"]],
        ))
        if applied:
            self._keep(kind, record)
        return applied

    def remember(self, kind: str, record: dict) -> None:
        """Keep a record fetched from the owner by RPC (revision-checked like an event)."""
        self._upsert(
            keys=[self._key(kind)],
            args=[record["code"], json.dumps(record, ensure_ascii=False),
                  record.get("revision", 0)],
        )

    def get(self, kind: str, code: str) -> dict | None:
        record = self._found.get((kind, code))
        if record is None:
            raw = self.redis.hget(self._key(kind), code)
            if raw is None:
                return None
            record = self._keep(kind, json.loads(raw))
        return record

    def _keep(self, kind: str, record: dict) -> dict:
        """Cache `record` unless a newer revision is cached (a read that started before an
        event was applied may finish after it); returns the newest."""
        held = self._found.get((kind, record["code"]))
        if held is not None and held.get("revision", 0) > record.get("revision", 0):
            return held
        self._found[(kind, record["code"])] = record
        return record

    def resolve(self, kind: str, code: str, fetch) -> dict | None:
        """The projected record, else the owner's (via `fetch(kind, code)`), else None."""
        record = self.get(kind, code)
        if record is None:
            record = fetch(kind, code)
            if record is not None:
                self.remember(kind, record)
        return record
