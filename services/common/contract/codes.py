"""National administrative division codes and department codes, as CONTRACT §1 defines them."""
import re
from typing import Annotated, Literal, get_args

from pydantic import StringConstraints

COUNTY_PATTERN = r"^\d{6}$"
TOWNSHIP_PATTERN = r"^\d{9}$"
VILLAGE_PATTERN = r"^\d{12}$"
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"

CountyCode = Annotated[str, StringConstraints(pattern=COUNTY_PATTERN)]
TownshipCode = Annotated[str, StringConstraints(pattern=TOWNSHIP_PATTERN)]
VillageCode = Annotated[str, StringConstraints(pattern=VILLAGE_PATTERN)]
DepartmentCode = Annotated[str, StringConstraints(pattern=DEPARTMENT_PATTERN)]

# The programme's four tasks (CONTRACT §3, work logs): what a day's work, a problem and a need
# are about.
Task = Literal["plan", "economy", "dispute", "organization"]
TASKS: tuple[Task, ...] = get_args(Task)

# What a cadre is in a village's team (CONTRACT §3, assignments), leader first; and why an
# assignment ends.
Role = Literal["leader", "first_secretary", "member"]
ROLES: tuple[Role, ...] = get_args(Role)
EndReason = Literal["completed", "recalled", "replaced"]


def is_township_code(code: str) -> bool:
    return re.fullmatch(TOWNSHIP_PATTERN, code) is not None


def is_village_code(code: str) -> bool:
    return re.fullmatch(VILLAGE_PATTERN, code) is not None


def is_department_code(code: str) -> bool:
    return re.fullmatch(DEPARTMENT_PATTERN, code) is not None


def township_of_village_code(village_code: str) -> str:
    """The first nine digits of a village code are its township's code."""
    return village_code[:9]
