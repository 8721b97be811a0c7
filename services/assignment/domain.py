"""The programme's rules that need no store, pure Python: directory codes, assignments, work,
inspections. They answer values; the use cases turn a "no" into a problem.

The rules that span records (one active assignment per cadre at a time, one leader and one
first secretary per village, work only on an active assignment, a status only moves forward)
are the store's Lua scripts' own, applied atomically, and are not said here.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from services.common.contract.codes import ROLES, TASKS, township_of_village_code


def township_in_county(township_code: str, county_code: str) -> bool:
    """A township's 9-digit code starts with its county's 6-digit code."""
    return township_code.startswith(county_code)


def village_belongs(village_code: str, township_code: str) -> bool:
    """A village's 12-digit code starts with its township's 9-digit code."""
    return township_of_village_code(village_code) == township_code


def team_order(assignment: dict) -> tuple[int, str]:
    """A village's team is shown leader, first secretary, then members (the contract lists the
    roles in that order), each by start."""
    return ROLES.index(assignment["role"]), assignment["starts_on"]


def status_after_end(reason: str) -> str:
    """A recall is recorded as such; completing a term or being replaced ends it."""
    return "recalled" if reason == "recalled" else "ended"


def within_term(assignment: dict, day: date) -> bool:
    """Whether a day falls within the assignment's dates (both included)."""
    return assignment["starts_on"] <= day.isoformat() <= assignment["ends_on"]


def public_cadre(cadre: dict, may_see_phone: bool) -> dict:
    """A cadre as a caller may see it: the phone number only for admin and own department."""
    shown = {key: value for key, value in cadre.items() if key != "phone"}
    shown["phone"] = cadre.get("phone") if may_see_phone else None
    return shown


def work_summary(counters: dict[str, str], days: int) -> dict:
    """The summary an inspector or township reads, from the counters kept per cadre or village."""
    entries_by_task = {task: int(counters.get(f"entries:{task}", 0)) for task in TASKS}
    households_by_task = {task: int(counters.get(f"households:{task}", 0)) for task in TASKS}
    return {
        "days_logged": days,
        "households_visited": sum(households_by_task.values()),
        "entries": sum(entries_by_task.values()),
        "entries_by_task": entries_by_task,
        "households_by_task": households_by_task,
    }


def unknown_cadres(named: Iterable[str], serving: Iterable[str]) -> list[str]:
    """Cadres an inspection report names who do not serve in the village."""
    serving = set(serving)
    return sorted(cadre for cadre in set(named) if cadre not in serving)
