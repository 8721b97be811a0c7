"""Who reads and who changes a township's feed (CONTRACT §2)."""
import pytest

from services.common.contract.principals import Principal
from services.notifications import access

T = "610581100"


@pytest.mark.parametrize("who, reads, changes", [
    ("admin", True, True),
    (f"township:{T}", True, True),
    ("inspector:省督查组", True, False),
    ("township:610581101", False, False),
    ("department:agri", False, False),
])
def test_a_feed_is_its_townships_read_by_inspectors_changed_by_the_county(who, reads,
                                                                         changes):
    principal = Principal.parse(who)
    assert access.reads_feed(principal, T) is reads
    assert access.changes_feed(principal, T) is changes
