"""The programme's rules, pure Python: directory codes, assignments, work, inspections.

The store's Lua scripts apply the rules that span records atomically; the functions here say
them once, in Python, for the service and for unit tests.
"""
from __future__ import annotations

from collections.abc import Iterable

from services.common.contract.codes import township_of_village_code
from services.common.contract.problems import invalid

TASKS = ("plan", "economy", "dispute", "organization")
# Roles a village has at most one of at a time; any number of members may serve.
SINGLE_ROLES = ("leader", "first_secretary")


def check_village_belongs(village_code: str, township_code: str) -> None:
    """A village's 12-digit code starts with its township's 9-digit code."""
    if township_of_village_code(village_code) != township_code:
        raise invalid(
            f"village {village_code} cannot belong to township {township_code}: "
            "a village code starts with its township's code",
            ["body", "township_code"],
        )


def overlaps(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two inclusive date ranges (ISO strings) share a day."""
    return first[0] <= second[1] and second[0] <= first[1]


def status_after_end(reason: str) -> str:
    """A recall is recorded as such; completing a term or being replaced ends it."""
    return "recalled" if reason == "recalled" else "ended"


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
