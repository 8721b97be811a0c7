"""Townships' inboxes in Redis.

Each township's notifications are numbered by a per-township sequence; that number is the
list cursor (and later the stream's event id), so order is stable and resuming never skips.
"""
from __future__ import annotations

import json
from importlib import resources as package_files

import redis

from services.common.directory import DirectoryProjection

SERVICE = "notifications"
ID_INDEX = "notifications:ids"


def _township(code: str) -> str:
    return f"notifications:{{township:{code}}}"


class NotificationsStore:
    def __init__(self, client: redis.Redis):
        self.redis = client
        self.directory = DirectoryProjection(client, SERVICE)
        source = package_files.files("services.notifications").joinpath("lua", "deliver.lua")
        self._deliver = client.register_script(source.read_text())

    def deliver(self, notification: dict) -> bool:
        """Store a notification unless its id is already stored; True when it was new."""
        township = _township(notification["township_code"])
        seq = self._deliver(
            keys=[ID_INDEX, f"{township}:seq", f"{township}:items", f"{township}:order",
                  f"{township}:unacked"],
            args=[notification["id"], notification["township_code"],
                  json.dumps(notification, ensure_ascii=False)],
        )
        return bool(seq)

    def inbox(self, township_code: str, after: int | None, limit: int,
              unacked_only: bool = False) -> tuple[list[dict], str | None]:
        township = _township(township_code)
        order = f"{township}:unacked" if unacked_only else f"{township}:order"
        low = f"({after}" if after is not None else "-inf"
        seqs = self.redis.zrangebyscore(order, low, "+inf", start=0, num=limit + 1)
        more = len(seqs) > limit
        seqs = seqs[:limit]
        raws = self.redis.hmget(f"{township}:items", seqs) if seqs else []
        items = [json.loads(raw) for raw in raws if raw]
        return items, (seqs[-1] if more else None)
