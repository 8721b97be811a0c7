"""The event contract (CONTRACT §4): one envelope, and one pydantic model per event type.

This module is the only place an event is defined. Producers build events with `make_event`,
consumers read them with `Envelope.model_validate` and the model `EVENT_TYPES` names.
The JSON schemas of all of them are snapshotted by tests/unit/test_event_schemas.py, so a
breaking change fails a test.
"""
from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from services.common.contract.codes import EndReason, Role, Task

SCHEMA_VERSION = 1


CHINA_STANDARD_TIME = timezone(timedelta(hours=8))  # no daylight saving since 1991


def county_today() -> date:
    """Today's date where the programme runs, for rules about days (not UTC's date)."""
    return datetime.now(CHINA_STANDARD_TIME).date()


def rfc3339(seconds: float) -> str:
    """A Unix time as RFC 3339 UTC with milliseconds, e.g. 2026-11-26T08:00:00.123Z: every
    time in the API and on the bus."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def utc_now() -> str:
    """Now, as RFC 3339 UTC with milliseconds (`rfc3339`)."""
    return rfc3339(time.time())


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str
    type: str = Field(pattern=r"^[a-z]+\.[a-z_]+$")
    occurred_at: str
    producer: str
    schema_version: int = SCHEMA_VERSION
    township_code: str | None = None
    village_code: str | None = None
    data: dict[str, Any]


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def of(cls, record: dict, **extra) -> Self:
        """The event of a record: each of its fields the record holds, taken from it; `extra`
        for those it holds under another name or not at all (and over the record's)."""
        taken = {name: record[name] for name in cls.model_fields
                 if name in record and name not in extra}
        return cls(**taken, **extra)


# --- assignment -------------------------------------------------------------------------------

class TownshipRegistered(EventData):
    code: str
    name: str
    county_code: str
    revision: int


class VillageRegistered(EventData):
    code: str
    name: str
    township_code: str
    hardship: int
    tags: list[str]
    # Grows with every change of the village, so a projection never applies an older copy.
    revision: int


class DepartmentRegistered(EventData):
    code: str
    name: str
    level: Literal["province", "city", "county"]
    revision: int


class CadreRegistered(EventData):
    # Never a phone number: events travel to every consumer and into townships' feeds.
    id: str
    name: str
    department_code: str
    title: str | None = None


class AssignmentStarted(EventData):
    id: str
    cadre_id: str
    cadre_name: str
    department_code: str
    village_code: str
    township_code: str
    role: Role
    starts_on: str
    ends_on: str


class AssignmentEnded(AssignmentStarted):
    status: Literal["ended", "recalled"]
    reason: EndReason
    note: str | None = None
    ended_at: str


class VillageLeaderless(EventData):
    village_code: str
    township_code: str
    ended_assignment_id: str
    since: str


class WorkLogged(EventData):
    id: str
    assignment_id: str
    cadre_id: str
    department_code: str
    village_code: str
    date: str
    task: Task
    households_visited: int


class ProblemReported(EventData):
    id: str
    village_code: str
    township_code: str
    category: Task
    title: str
    reported_by: str


class ProblemResolved(ProblemReported):
    resolution: str
    resolved_by: str
    resolved_at: str


class InspectionFiled(EventData):
    id: str
    village_code: str
    township_code: str
    planned_for: str
    visited_on: str
    score: int
    findings: list[str]
    cadres_present: list[str]
    cadres_absent: list[str]
    filed_at: str


# --- resources --------------------------------------------------------------------------------

class PoolIncreased(EventData):
    department_code: str
    kind: str
    unit: str
    quantity: str
    note: str | None = None


class CommitmentCreated(EventData):
    id: str
    department_code: str
    village_code: str
    township_code: str
    kind: str
    unit: str
    quantity: str
    status: Literal["committed"]
    need_id: str | None = None
    note: str | None = None
    created_at: str


class CommitmentState(EventData):
    """A commitment as stored after a step of its lifecycle."""

    id: str
    department_code: str
    village_code: str
    township_code: str
    kind: str
    unit: str
    quantity: str
    need_id: str | None = None
    note: str | None = None
    created_at: str
    delivered_quantity: str | None = None
    released: str | None = None
    delivered_at: str | None = None
    confirmed_at: str | None = None
    confirmed_by: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None


class CommitmentDelivered(CommitmentState):
    status: Literal["delivered"]


class CommitmentConfirmed(CommitmentState):
    status: Literal["confirmed"]


class CommitmentCancelled(CommitmentState):
    status: Literal["cancelled"]


class NeedRaised(EventData):
    id: str
    village_code: str
    township_code: str
    kind: str
    unit: str
    requested: str
    category: Task
    purpose: str
    raised_by: str
    created_at: str


EVENT_TYPES: dict[str, type[EventData]] = {
    "assignment.township_registered": TownshipRegistered,
    "assignment.village_registered": VillageRegistered,
    "assignment.department_registered": DepartmentRegistered,
    "assignment.cadre_registered": CadreRegistered,
    "assignment.assignment_started": AssignmentStarted,
    "assignment.assignment_ended": AssignmentEnded,
    "assignment.village_leaderless": VillageLeaderless,
    "assignment.work_logged": WorkLogged,
    "assignment.problem_reported": ProblemReported,
    "assignment.problem_resolved": ProblemResolved,
    "assignment.inspection_filed": InspectionFiled,
    "resources.pool_increased": PoolIncreased,
    "resources.commitment_created": CommitmentCreated,
    "resources.commitment_delivered": CommitmentDelivered,
    "resources.commitment_confirmed": CommitmentConfirmed,
    "resources.commitment_cancelled": CommitmentCancelled,
    "resources.need_raised": NeedRaised,
}


def make_event(event_type: str, data: EventData, township_code: str | None = None,
               village_code: str | None = None) -> Envelope:
    expected = EVENT_TYPES[event_type]
    if not isinstance(data, expected):
        raise TypeError(f"{event_type} carries {expected.__name__}, not {type(data).__name__}")
    return Envelope(
        event_id=str(uuid.uuid4()),
        type=event_type,
        occurred_at=utc_now(),
        producer=event_type.split(".", 1)[0],
        township_code=township_code,
        village_code=village_code,
        data=data.model_dump(mode="json"),
    )
