"""The directory of townships, villages and departments: registering (each write announced)
and reading. `guabang directory import-county` registers through these too, so a bulk import
keeps every rule and announces every entry like a single PUT does."""
from __future__ import annotations

from services.assignment import access
from services.assignment.domain import township_in_county, village_belongs
from services.assignment.store import DIRECTORY, AssignmentStore
from services.assignment.use_cases import shared
from services.common.contract import events
from services.common.contract.http_bodies import DepartmentIn, TownshipIn, VillageIn
from services.common.contract.paging import page, parse_limit
from services.common.contract.principals import Principal
from services.common.contract.problems import forbidden, invalid, not_found, valid_code, validated


def public(record: dict) -> dict:
    """A directory entry as answered: without the revision projections use."""
    return {key: value for key, value in record.items() if key != "revision"}


# --- registering ------------------------------------------------------------------------------


def register_township(store: AssignmentStore, code: str, body: dict) -> dict:
    valid_code("township", code, ["path", "code"])
    township = validated(TownshipIn, body)
    if not township_in_county(code, township.county_code):
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
    return {"created": created, "township": public(record)}


def validated_village(code: str, body: dict) -> VillageIn:
    """Every rule a village must meet on its own (its township's existence aside)."""
    valid_code("village", code, ["path", "code"])
    village = validated(VillageIn, body)
    if not village_belongs(code, village.township_code):
        raise invalid(f"village {code} cannot belong to township {village.township_code}: "
                      "a village code starts with its township's code",
                      ["body", "township_code"])
    return village


def register_village(store: AssignmentStore, code: str, body: dict) -> dict:
    village = validated_village(code, body)
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
    return {"created": created, "village": public(record)}


def register_department(store: AssignmentStore, code: str, body: dict) -> dict:
    valid_code("department", code, ["path", "code"])
    department = validated(DepartmentIn, body)

    def announce(record):
        return events.make_event(
            "assignment.department_registered",
            events.DepartmentRegistered(code=code, name=record["name"],
                                        level=record["level"], revision=record["revision"]),
        )

    record, created = store.upsert("department", code, department.model_dump(), announce)
    return {"created": created, "department": public(record)}


# --- reading ----------------------------------------------------------------------------------


def _entry(store: AssignmentStore, kind: str, code: str) -> dict:
    record = store.get(kind, code)
    if record is None:
        raise not_found(kind, code)
    return public(record)


def get_township(store: AssignmentStore, actor: str, code: str) -> dict:
    principal = Principal.parse(actor)
    if not access.reads_directory_township(principal, code):
        raise forbidden(principal, f"read township {code}")
    return _entry(store, "township", code)


def get_village(store: AssignmentStore, actor: str, code: str) -> dict:
    """Another township's village is refused before it is looked up (its code names its
    township)."""
    return public(shared.village(store, Principal.parse(actor), code))


def get_department(store: AssignmentStore, code: str) -> dict:
    return _entry(store, "department", code)


def list_townships(store: AssignmentStore, actor: str, after: str | None = None,
                   limit=None) -> dict:
    """Every township by code; a township's key sees its own only (none before it is
    registered)."""
    principal = Principal.parse(actor)
    if principal.kind == "township":
        own = store.get("township", principal.code)
        return page([public(own)] if own else [], None)
    items, next_cursor = store.list("township", after, parse_limit(limit))
    return page([public(item) for item in items], next_cursor)


def list_villages(store: AssignmentStore, actor: str, township: str | None = None,
                  after: str | None = None, limit=None) -> dict:
    """Villages by code, of one township if named; a township's key lists its own."""
    principal = Principal.parse(actor)
    if principal.kind == "township":
        township = township or principal.code
    if township is not None and not access.reads_directory_township(principal, township):
        raise shared.not_own_village(principal)
    items, next_cursor = store.list("village", after, parse_limit(limit), township)
    return page([public(item) for item in items], next_cursor)


def list_departments(store: AssignmentStore, after: str | None = None, limit=None) -> dict:
    items, next_cursor = store.list("department", after, parse_limit(limit))
    return page([public(item) for item in items], next_cursor)


def directory_entry(store: AssignmentStore, kind: str, code: str) -> dict | None:
    """The full stored record (with revision), for another service's projection that has not
    seen it yet."""
    if kind not in DIRECTORY:
        raise invalid(f"unknown directory kind {kind!r}")
    return store.get(kind, code)
