"""A service's projection of the directory, against the real Redis: never older, seen at once."""
import pytest

from services.common.contract import events
from services.common.storage.directory_projection import DirectoryProjection

pytestmark = pytest.mark.integration


def test_a_projection_never_goes_back_to_an_older_revision(redis_client):
    projection = DirectoryProjection(redis_client, "resources")

    def village(revision, name):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code="610581100201", name=name, township_code="610581100", hardship=3, tags=[],
            revision=revision), township_code="610581100", village_code="610581100201")

    newer, older = village(2, "东村(新)"), village(1, "东村")
    assert projection.apply(newer)
    assert not projection.apply(older)  # arrived late: ignored
    assert projection.get("village", "610581100201")["name"] == "东村(新)"


def test_a_village_moved_to_another_township_is_seen_at_once_where_the_move_was_applied(
        redis_client):
    projection = DirectoryProjection(redis_client, "resources")

    def village(revision, township):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code="610581100201", name="东村", township_code=township, hardship=3, tags=[],
            revision=revision), township_code=township, village_code="610581100201")

    projection.apply(village(1, "610581100"))
    assert projection.get("village", "610581100201")["township_code"] == "610581100"  # cached
    projection.apply(village(2, "610581101"))
    assert projection.get("village", "610581100201")["township_code"] == "610581101"


def test_a_cached_record_is_never_replaced_by_an_older_read(redis_client):
    projection = DirectoryProjection(redis_client, "resources")
    projection._keep("village", {"code": "610581100201", "revision": 3, "name": "新"})
    kept = projection._keep("village", {"code": "610581100201", "revision": 2, "name": "旧"})
    assert kept["name"] == "新" and projection.get("village", "610581100201")["name"] == "新"


def test_a_township_event_a_broker_still_routes_to_notifications_is_applied(redis_client):
    """notifications no longer binds assignment.township_registered, but a broker declared
    before keeps the binding: such an event is still applied, not failed and parked."""
    projection = DirectoryProjection(redis_client, "notifications")
    event = events.make_event("assignment.township_registered", events.TownshipRegistered(
        code="610581100", name="东乡", county_code="610581", revision=1))
    assert projection.apply(event)
    assert projection.get("township", "610581100")["name"] == "东乡"
