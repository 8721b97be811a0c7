"""Registering townships, villages and departments: validation, store and event together.

Shared by the service's RPC entrypoints and by `guabang directory import-county`, so a bulk
import keeps every rule and announces every entry like a single PUT does.
"""
from __future__ import annotations

from services.assignment.domain import check_village_belongs
from services.assignment.store import AssignmentStore
from services.common.contract import events
from services.common.contract.codes import is_department_code, is_township_code, is_village_code
from services.common.contract.http_bodies import DepartmentIn, TownshipIn, VillageIn
from services.common.contract.problems import invalid, validated


def public(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "revision"}


def register_township(store: AssignmentStore, code: str, body: dict) -> tuple[dict, bool]:
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

    record, created = store.upsert("township", code, township.model_dump(), announce)
    return public(record), created


def validate_village(code: str, body: dict) -> VillageIn:
    """Every rule a village must meet on its own (its township's existence aside)."""
    if not is_village_code(code):
        raise invalid("a village code is 12 digits", ["path", "code"])
    village = validated(VillageIn, body)
    check_village_belongs(code, village.township_code)
    return village


def register_village(store: AssignmentStore, code: str, body: dict) -> tuple[dict, bool]:
    village = validate_village(code, body)
    if store.get("township", village.township_code) is None:
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

    record, created = store.upsert("village", code, village.model_dump(), announce)
    return public(record), created


def register_department(store: AssignmentStore, code: str, body: dict) -> tuple[dict, bool]:
    if not is_department_code(code):
        raise invalid("a department code matches ^[a-z][a-z0-9-]{1,31}$", ["path", "code"])
    department = validated(DepartmentIn, body)

    def announce(record):
        return events.make_event(
            "assignment.department_registered",
            events.DepartmentRegistered(code=code, name=record["name"],
                                        level=record["level"], revision=record["revision"]),
        )

    record, created = store.upsert("department", code, department.model_dump(), announce)
    return public(record), created
