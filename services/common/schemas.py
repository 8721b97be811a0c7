"""Request and response bodies of the public HTTP API (CONTRACT §3), one pydantic model each.

The gateway validates requests with these and builds /openapi.json from them; the services
validate again with the same models, since RPC and AMQP ingress are doors too.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.common.codes import CountyCode, DepartmentCode, TownshipCode, VillageCode
from services.common.quantities import HUNDREDTHS, parse_quantity

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Note = Annotated[str, StringConstraints(max_length=2000)]
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Principal = Annotated[
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
    principal: Principal


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


class Commitment(BaseModel):
    id: str
    status: str
    department_code: str
    village_code: str
    township_code: str
    kind: str
    unit: str
    quantity: str
    need_id: str | None = None
    note: str | None = None
    created_at: str


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


# --- operations ------------------------------------------------------------------------------

class Health(BaseModel):
    status: Literal["ok", "degraded"]
    services: dict[str, str]


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
