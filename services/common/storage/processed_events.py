"""Exactly-once effects for at-least-once delivery (ENGINEERING rule 2).

A consumer records the `event_id` it processed in the same Lua call as its effect, so a
redelivered event finds the record and changes nothing (directory_projection.py; the
resources service's village views keep their own marker in their hash slot).
"""
from __future__ import annotations

PROCESSED_TTL = 60 * 60 * 24 * 30  # redeliveries come within minutes; a month is ample


def processed_key(consumer: str, event_id: str) -> str:
    return f"processed:{consumer}:{event_id}"
