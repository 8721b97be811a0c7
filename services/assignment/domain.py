"""Directory rules, pure Python."""
from services.common.codes import township_of_village_code
from services.common.problems import invalid


def check_village_belongs(village_code: str, township_code: str) -> None:
    """A village's 12-digit code starts with its township's 9-digit code."""
    if township_of_village_code(village_code) != township_code:
        raise invalid(
            f"village {village_code} cannot belong to township {township_code}: "
            "a village code starts with its township's code",
            ["body", "township_code"],
        )
