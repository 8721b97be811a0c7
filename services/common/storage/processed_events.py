"""Exactly-once effects for at-least-once delivery (ENGINEERING rule 2).

A consumer whose effect is not safe to repeat records the `event_id` it processed in the same
Lua call as its effect, so a redelivered event finds the record and changes nothing (the
resources service's village views keep their marker in their hash slot). A directory
projection needs none: it stores a record only over an older revision (upsert_if_newer.lua).
"""
from __future__ import annotations

PROCESSED_TTL = 60 * 60 * 24 * 30  # redeliveries come within minutes; a month is ample
