"""Request and response bodies of the public HTTP API (CONTRACT §3), one pydantic model each.

The gateway validates requests with these and builds /openapi.json from them; the services
validate again with the same models, since RPC and AMQP ingress are doors too.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from services.common.contract.codes import (
    CountyCode,
    DepartmentCode,
    EndReason,
    Role,
    Task,
    TownshipCode,
    VillageCode,
)
from services.common.values.quantities import HUNDREDTHS, parse_quantity

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(max_length=2000)]
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
PrincipalName = Annotated[
    str,
    StringConstraints(
        pattern=r"^(admin|department:[a-z][a-z0-9-]{1,31}|township:\d{9}|inspector:[^\s:]{1,64})$"
    ),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuantityBody(Body):
    quantity: Annotated[str, Field(description="Decimal string, at most 2 places, > 0",
                                   examples=["1500.50"])]

    @field_validator("quantity", mode="before")
    @classmethod
    def _decimal_string(cls, value):
        return str(parse_quantity(value).quantize(HUNDREDTHS))

    @property
    def amount(self) -> Decimal:
        return Decimal(self.quantity)


# --- keys ------------------------------------------------------------------------------------

class ApiKeyRequest(Body):
    principal: PrincipalName


class ApiKey(BaseModel):
    id: str
    principal: str
    created_at: str
    key: str | None = Field(None, description="Shown once, in the response that creates it")


# --- directory -------------------------------------------------------------------------------

class TownshipIn(Body):
    name: Name
    county_code: CountyCode


class Township(TownshipIn):
    code: TownshipCode
    created_at: str
    updated_at: str


class VillageIn(Body):
    name: Name
    township_code: TownshipCode
    hardship: int = Field(ge=1, le=5, description="5 = hardest")
    tags: list[Tag] = Field(default_factory=list, max_length=20)


class Village(VillageIn):
    code: VillageCode
    created_at: str
    updated_at: str


class DepartmentIn(Body):
    name: Name
    level: Literal["province", "city", "county"]


class Department(DepartmentIn):
    code: DepartmentCode
    created_at: str
    updated_at: str


# --- resources -------------------------------------------------------------------------------

class PoolAddition(QuantityBody):
    kind: Kind
    unit: Unit
    note: Note | None = None


class PoolItem(BaseModel):
    department_code: str
    kind: str
    unit: str
    pooled: str
    reserved: str
    delivered: str
    available: str


class CommitmentRequest(QuantityBody):
    department_code: DepartmentCode
    village_code: VillageCode
    kind: Kind
    unit: Unit
    need_id: str | None = None
    note: Note | None = None


# A commitment's statuses; which leads to which is services/resources/domain.py's LIFECYCLE
# (a unit test holds the two together).
CommitmentStatus = Literal["committed", "delivered", "confirmed", "cancelled"]
COMMITMENT_STATUSES: tuple[str, ...] = get_args(CommitmentStatus)


class Commitment(BaseModel):
    id: str
    status: CommitmentStatus
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
    released: str | None = Field(None, description="What a partial delivery gave back")
    delivered_at: str | None = None
    confirmed_at: str | None = None
    confirmed_by: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None


class Delivery(Body):
    quantity: Annotated[str, Field(description="What arrived, if less than committed")] | None \
        = None

    @field_validator("quantity", mode="before")
    @classmethod
    def _decimal_string(cls, value):
        return None if value is None else str(parse_quantity(value).quantize(HUNDREDTHS))


class Cancellation(Body):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)]


class NeedIn(QuantityBody):
    kind: Kind
    unit: Unit
    category: Task
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=500)]


# A need's statuses, derived by services/resources/domain.py's need_status.
NeedStatus = Literal["open", "covered", "fulfilled"]
NEED_STATUSES: tuple[str, ...] = get_args(NeedStatus)


class Need(BaseModel):
    id: str
    status: NeedStatus
    village_code: str
    township_code: str
    hardship: int
    kind: str
    unit: str
    requested: str
    committed: str
    delivered: str
    lacking: str
    category: str
    purpose: str
    raised_by: str
    created_at: str


class ResourceLine(BaseModel):
    kind: str
    unit: str
    committed: str
    delivered: str
    confirmed: str
    departments: dict[str, dict[str, str]]


class VillageResources(BaseModel):
    village_code: str
    items: list[ResourceLine]


# --- notifications ---------------------------------------------------------------------------

class Notification(BaseModel):
    id: str
    event_id: str
    type: str
    township_code: str
    village_code: str | None
    occurred_at: str
    title_zh: str
    title_en: str
    data: dict
    acked_at: str | None = None
    acked_by: str | None = None
    cursor: str | None = Field(None, description="Resume after this item: ?after= or "
                                                 "Last-Event-ID")


# --- operations ------------------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok", "degraded"]
    services: dict[str, str]
    # only when degraded: what is down and why, by service (and "gateway" for its own Redis)
    causes: dict[str, str] = {}


class ProblemBody(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict] = Field(default_factory=list)


def page_of(model: type[BaseModel]) -> type[BaseModel]:
    """The `{"items": [...], "next": cursor}` envelope of a list of `model`."""
    return type(f"{model.__name__}Page", (BaseModel,), {
        "__annotations__": {"items": list[model], "next": str | None},
    })


# --- cadres and assignments ------------------------------------------------------------------

Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]


class CadreIn(Body):
    name: Name
    department_code: DepartmentCode
    phone: Phone | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)] | None = None


class Cadre(BaseModel):
    id: str
    name: str
    department_code: str
    title: str | None = None
    phone: str | None = Field(None, description="Only for admin and the cadre's department")
    created_at: str


class AssignmentIn(Body):
    cadre_id: str
    village_code: VillageCode
    role: Role
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class EndAssignment(Body):
    reason: EndReason
    note: Note | None = None


class Assignment(BaseModel):
    id: str
    status: Literal["active", "ended", "recalled"]
    cadre_id: str
    cadre_name: str
    department_code: str
    village_code: str
    township_code: str
    role: Role
    starts_on: str
    ends_on: str
    created_at: str
    ended_at: str | None = None
    end_reason: str | None = None
    end_note: str | None = None
    inspections_absent: int = 0


class WorkLogIn(Body):
    date: date
    task: Task
    households_visited: int = Field(ge=0, le=100_000)
    note: Note = ""


class WorkLog(WorkLogIn):
    id: str
    assignment_id: str
    cadre_id: str
    village_code: str
    created_at: str


class WorkSummary(BaseModel):
    days_logged: int
    households_visited: int
    entries: int
    entries_by_task: dict[str, int]
    households_by_task: dict[str, int]


class ProblemIn(Body):
    category: Task
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    detail: Note | None = None


class ResolveProblem(Body):
    resolution: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=2000)]


ProblemStatus = Literal["open", "resolved"]
PROBLEM_STATUSES: tuple[str, ...] = get_args(ProblemStatus)


class VillageProblem(BaseModel):
    id: str
    status: ProblemStatus
    village_code: str
    township_code: str
    category: Task
    title: str
    detail: str | None = None
    reported_by: str
    reported_at: str
    resolution: str | None = None
    resolved_by: str | None = None
    resolved_at: str | None = None


class InspectionIn(Body):
    village_code: VillageCode
    planned_for: date


class InspectionReport(Body):
    visited_on: date
    score: int = Field(ge=0, le=100)
    findings: list[Annotated[str, StringConstraints(max_length=2000)]] = Field(max_length=100)
    cadres_present: list[str] = Field(default_factory=list, max_length=200)
    cadres_absent: list[str] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _present_or_absent_not_both(self):
        both = set(self.cadres_present) & set(self.cadres_absent)
        if both:
            raise ValueError(f"cadres both present and absent: {sorted(both)}")
        return self


class Inspection(BaseModel):
    id: str
    status: Literal["planned", "filed"]
    village_code: str
    township_code: str
    planned_for: str
    planned_by: str
    created_at: str
    report: dict | None = None
    filed_at: str | None = None


class WebhookIn(Body):
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2000)]
    types: list[str] = Field(min_length=1, max_length=50,
                             description='["*"] for every type, or a list of event types')


class Webhook(BaseModel):
    id: str
    url: str
    types: list[str]
    status: Literal["active", "disabled"]
    created_at: str
    consecutive_failures: int = 0
    last_error: str | None = None
    last_success_at: str | None = None
    disabled_at: str | None = None
    disabled_reason: str | None = None
    secret: str | None = Field(None, description="Shown once, in the response that creates it")


class WebhookAttempt(BaseModel):
    number: int | None = None
    at: str
    status_code: int | None
    error: str | None
    duration_ms: int | None = None


class WebhookDelivery(BaseModel):
    id: str
    webhook_id: str
    notification_id: str
    status: Literal["pending", "delivered", "exhausted", "abandoned"]
    attempts_made: int
    created_at: str
    next_attempt_at: str | None = None
    attempts: list[WebhookAttempt] = Field(default_factory=list)


class TownshipFeedStatus(BaseModel):
    township_code: str
    unacked: int
    webhooks: list[Webhook]
    failing_webhooks: int
