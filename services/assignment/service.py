"""The assignment service's nameko entrypoints: thin, they validate, call the store, answer."""
from __future__ import annotations

from services.assignment.domain import check_village_belongs
from services.assignment.inspections import InspectionsRpc
from services.assignment.programme import ProgrammeRpc
from services.assignment.store import AssignmentStore
from services.common import events
from services.common.codes import is_department_code, is_township_code, is_village_code
from services.common.lists import page, parse_limit
from services.common.outbox import OutboxRelay
from services.common.problems import invalid, not_found, validated
from services.common.redis_provider import Store
from services.common.schemas import DepartmentIn, TownshipIn, VillageIn
from services.common.service_kit import DeclareTopology, rpc


def _public(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "revision"}


class AssignmentService(ProgrammeRpc, InspectionsRpc):
    name = "assignment"

    topology = DeclareTopology()
    store: AssignmentStore = Store(AssignmentStore)
    relay = OutboxRelay("assignment")

    @rpc
    def health(self) -> str:
        self.store.redis.ping()
        return "ok"

    # --- townships ---------------------------------------------------------------------------

    @rpc
    def put_township(self, code: str, body: dict) -> dict:
        if not is_township_code(code):
            raise invalid("a township code is 9 digits", ["path", "code"])
        township = validated(TownshipIn, body)
        if not code.startswith(township.county_code):
            raise invalid(f"township {code} is not in county {township.county_code}",
                          ["body", "county_code"])

        def announce(record):
            return events.make_event(
                "assignment.township_registered",
                events.TownshipRegistered(code=code, name=record["name"],
                                          county_code=record["county_code"],
                                          revision=record["revision"]),
                township_code=code,
            )

        record, created = self.store.upsert("township", code, township.model_dump(), announce)
        return {"created": created, "township": _public(record)}

    @rpc
    def get_township(self, code: str) -> dict:
        record = self.store.get("township", code)
        if record is None:
            raise not_found("township", code)
        return _public(record)

    @rpc
    def list_townships(self, after: str | None = None, limit=None) -> dict:
        items, next_cursor = self.store.list("township", after, parse_limit(limit))
        return page([_public(item) for item in items], next_cursor)

    # --- villages ----------------------------------------------------------------------------

    @rpc
    def put_village(self, code: str, body: dict) -> dict:
        if not is_village_code(code):
            raise invalid("a village code is 12 digits", ["path", "code"])
        village = validated(VillageIn, body)
        check_village_belongs(code, village.township_code)
        if self.store.get("township", village.township_code) is None:
            raise invalid(f"township {village.township_code} is not registered",
                          ["body", "township_code"], type="unknown-township")

        def announce(record):
            return events.make_event(
                "assignment.village_registered",
                events.VillageRegistered(code=code, name=record["name"],
                                         township_code=record["township_code"],
                                         hardship=record["hardship"], tags=record["tags"],
                                         revision=record["revision"]),
                township_code=record["township_code"],
                village_code=code,
            )

        record, created = self.store.upsert("village", code, village.model_dump(), announce)
        return {"created": created, "village": _public(record)}

    @rpc
    def get_village(self, code: str) -> dict:
        record = self.store.get("village", code)
        if record is None:
            raise not_found("village", code)
        return _public(record)

    @rpc
    def list_villages(self, township: str | None = None, after: str | None = None,
                      limit=None) -> dict:
        items, next_cursor = self.store.list("village", after, parse_limit(limit),
                                             township_code=township)
        return page([_public(item) for item in items], next_cursor)

    # --- departments -------------------------------------------------------------------------

    @rpc
    def put_department(self, code: str, body: dict) -> dict:
        if not is_department_code(code):
            raise invalid("a department code matches ^[a-z][a-z0-9-]{1,31}$", ["path", "code"])
        department = validated(DepartmentIn, body)

        def announce(record):
            return events.make_event(
                "assignment.department_registered",
                events.DepartmentRegistered(code=code, name=record["name"],
                                            level=record["level"], revision=record["revision"]),
            )

        record, created = self.store.upsert("department", code, department.model_dump(),
                                            announce)
        return {"created": created, "department": _public(record)}

    @rpc
    def get_department(self, code: str) -> dict:
        record = self.store.get("department", code)
        if record is None:
            raise not_found("department", code)
        return _public(record)

    @rpc
    def list_departments(self, after: str | None = None, limit=None) -> dict:
        items, next_cursor = self.store.list("department", after, parse_limit(limit))
        return page([_public(item) for item in items], next_cursor)

    # --- for other services' projections -----------------------------------------------------

    @rpc
    def directory_entry(self, kind: str, code: str) -> dict | None:
        """The full stored record (with revision), for a projection that has not seen it yet."""
        if kind not in ("township", "village", "department"):
            raise invalid(f"unknown directory kind {kind!r}")
        return self.store.get(kind, code)
