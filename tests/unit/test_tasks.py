"""The programme's four tasks are written once (contract/codes.py); every place that names them
takes them from there, and every task has a title in both languages."""
import pytest
from pydantic import ValidationError

from services.common.contract import events, http_bodies
from services.common.contract.codes import TASKS
from services.notifications.titles import TASK_EN, TASK_ZH


def test_every_task_has_a_title_in_both_languages():
    assert set(TASK_ZH) == set(TASKS) and set(TASK_EN) == set(TASKS)


@pytest.mark.parametrize("model, field", [
    (http_bodies.WorkLogIn, "task"), (http_bodies.ProblemIn, "category"),
    (http_bodies.NeedIn, "category"), (events.WorkLogged, "task"),
    (events.ProblemReported, "category"), (events.NeedRaised, "category"),
])
def test_bodies_and_events_take_exactly_the_four_tasks(model, field):
    schema = model.model_json_schema()["properties"][field]
    assert schema["enum"] == list(TASKS)
    with pytest.raises(ValidationError):
        model.model_validate({field: "fishing"})
