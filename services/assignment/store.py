"""The assignment service's Redis keys. Every write stores its event in the outbox atomically."""
from __future__ import annotations

import json
from collections.abc import Callable

import redis

from services.common.events import Envelope, utc_now
from services.common.outbox import outbox_key, ring, serialize

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


class AssignmentStore:
    def __init__(self, client: redis.Redis):
        self.redis = client

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
                    ring(SERVICE)
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
