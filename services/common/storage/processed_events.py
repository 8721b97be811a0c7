"""Exactly-once effects for at-least-once delivery (ENGINEERING rule 2).

A consumer records the `event_id` it processed in the same MULTI/EXEC as its effect, so a
redelivered event finds the record and changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable

import redis
from redis.client import Pipeline

PROCESSED_TTL = 60 * 60 * 24 * 30  # redeliveries come within minutes; a month is ample


def processed_key(consumer: str, event_id: str) -> str:
    return f"processed:{consumer}:{event_id}"


def apply_once(client: redis.Redis, consumer: str, event_id: str,
               write: Callable[[Pipeline], None]) -> bool:
    """Queue `write`'s commands and the processed-record in one MULTI/EXEC, unless this
    consumer already applied this event; returns False in that case."""
    marker = processed_key(consumer, event_id)
    with client.pipeline() as pipe:
        while True:
            try:
                pipe.watch(marker)
                if pipe.exists(marker):
                    pipe.unwatch()
                    return False
                pipe.multi()
                write(pipe)
                pipe.set(marker, 1, ex=PROCESSED_TTL)
                pipe.execute()
                return True
            except redis.WatchError:
                continue
