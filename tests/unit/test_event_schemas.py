"""A snapshot of every event's JSON schema: changing an event breaks this test on purpose.

Consumers outside this repository read these events; a change must be deliberate. To accept
one, run `GUABANG_UPDATE_SNAPSHOTS=1 make unit` and commit the new snapshot with a note in
docs/events.md.
"""
import json
import os
from pathlib import Path

import pytest

from services.common.contract.events import EVENT_TYPES, Envelope, make_event

SNAPSHOTS = Path(__file__).parent / "snapshots" / "events"
SCHEMAS = {"envelope": Envelope, **EVENT_TYPES}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_event_schema_matches_snapshot(name):
    schema = SCHEMAS[name].model_json_schema()
    path = SNAPSHOTS / f"{name}.json"
    if os.environ.get("GUABANG_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert path.exists(), f"no snapshot for {name}; see this module's docstring"
    assert schema == json.loads(path.read_text()), f"the schema of {name} changed"


def test_every_snapshot_belongs_to_an_event():
    stale = {p.stem for p in SNAPSHOTS.glob("*.json")} - set(SCHEMAS)
    assert not stale, f"snapshots of events that no longer exist: {sorted(stale)}"


def test_event_types_name_their_producer():
    for event_type in EVENT_TYPES:
        service, _, name = event_type.partition(".")
        assert service in {"assignment", "resources", "notifications"} and name


def test_make_event_refuses_data_of_another_type():
    data = EVENT_TYPES["assignment.department_registered"](
        code="agri", name="农业农村局", level="county", revision=1)
    with pytest.raises(TypeError):
        make_event("resources.commitment_created", data)
    event = make_event("assignment.department_registered", data)
    assert event.producer == "assignment" and event.data["name"] == "农业农村局"
    assert event.occurred_at.endswith("Z")
