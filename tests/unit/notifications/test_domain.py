"""The feed's pure rules: ids, routing, titles, who wants what, what clients see, paging, and
what an attempt means for a delivery."""
import random

import pytest

from services.common.contract.events import rfc3339
from services.notifications import domain
from services.notifications.titles import Names, render
from tests.unit.notifications.helpers import TOWNSHIP, commitment_event


def test_one_event_gives_one_notification_id_per_township():
    assert domain.notification_id("e1", "610581100") == domain.notification_id("e1", "610581100")
    assert domain.notification_id("e1", "610581100") != domain.notification_id("e1", "610581101")
    assert domain.notification_id("e1", "610581100") != domain.notification_id("e2", "610581100")


def test_titles_name_department_village_and_quantity_in_both_languages():
    data = {"kind": "seedlings", "quantity": "500.00", "unit": "株", "department_code": "agri"}
    zh, en = render("resources.commitment_created", data,
                    Names(village="东村", department="县农业农村局"))
    assert "县农业农村局" in zh and "东村" in zh and "500.00 株" in zh
    assert en == "县农业农村局 committed 500.00 株 of seedlings to 东村"


def test_a_notification_is_its_event_titled_and_routed_to_its_township():
    event = commitment_event()
    notification = domain.notification_of(event, Names(village="东村", department="农业局"))
    assert notification["id"] == domain.notification_id(event.event_id, TOWNSHIP)
    assert notification["title_zh"] == "农业局承诺向东村提供 cement 5.00 吨"
    assert notification["data"] == event.data and notification["acked_at"] is None
    assert domain.routing_key(notification) == \
        f"township.{TOWNSHIP}.resources.commitment_created"


def test_the_channels_send_a_notification_without_the_inboxs_cursor_and_receipt():
    item = {"id": "ntf_1", "cursor": "7", "acked_at": "2026-11-26T00:00:00Z",
            "acked_by": "township:610581100"}
    assert domain.public_notification(item) == {"id": "ntf_1", "acked_at": None}


@pytest.mark.parametrize("status, types, event_type, wanted", [
    ("active", ["*"], "assignment.problem_reported", True),
    ("active", ["resources.need_raised"], "resources.need_raised", True),
    ("active", ["resources.need_raised"], "assignment.problem_reported", False),
    ("disabled", ["*"], "assignment.problem_reported", False),
])
def test_a_webhook_wants_what_it_asked_for_while_active(status, types, event_type, wanted):
    assert domain.wants({"status": status, "types": types}, event_type) is wanted


def test_a_webhooks_secret_is_never_shown_again_and_unknown_types_are_named():
    assert domain.public_webhook({"id": "whk_1", "secret_sealed": "x"}) == {"id": "whk_1"}
    assert domain.unknown_types(["*", "b.x", "a.y", "a.known"], ("a.known",)) == ["a.y", "b.x"]


@pytest.mark.parametrize("after, cursor", [(None, None), ("", None), ("12", 12), (3, 3)])
def test_an_inbox_cursor_is_the_items_number(after, cursor):
    assert domain.parse_cursor(after) == cursor


def test_a_cursor_never_handed_out_is_refused():
    with pytest.raises(domain.BadCursor):
        domain.parse_cursor("abc")


def test_deliveries_page_after_an_id_and_start_over_for_an_unknown_one():
    items = [{"id": f"d{n}"} for n in range(5)]
    assert domain.page_after(items, None, 2) == (items[:2], "d1")
    assert domain.page_after(items, "d1", 2) == (items[2:4], "d3")
    assert domain.page_after(items, "d3", 2) == (items[4:], None)
    assert domain.page_after(items, "gone", 5) == (items, None)


PENDING = {"id": "dlv_1", "webhook_id": "whk_1", "status": "pending", "attempts_made": 0,
           "next_attempt_at": "2026-11-26T00:00:00.000Z"}
NOW = 1_790_000_000.0


def _answer(status=None, error=None, retry_after=None):
    return domain.Answer(status, error, retry_after, 12)


def test_a_2xx_delivers_and_clears_the_next_attempt():
    done = domain.after_attempt(PENDING, _answer(204), (1.0,), NOW)
    assert (done.delivery["status"], done.delivery["attempts_made"]) == ("delivered", 1)
    assert done.delivery["next_attempt_at"] is None and done.next_due_ms is None
    assert done.verdict == "succeeded"
    assert done.attempt == {"number": 1, "at": rfc3339(NOW), "status_code": 204,
                            "error": None, "duration_ms": 12}


def test_410_abandons_the_delivery_and_disables_the_webhook():
    done = domain.after_attempt(PENDING, _answer(410), (1.0,), NOW)
    assert done.delivery["status"] == "abandoned" and done.next_due_ms is None
    assert (done.verdict, done.webhook_note) == ("gone", domain.GONE_REASON)


def test_a_failure_is_tried_again_on_the_schedule_then_exhausted():
    done = domain.after_attempt(PENDING, _answer(500), (10.0,), NOW, random.Random(1))
    assert done.delivery["status"] == "pending" and done.verdict == "failed"
    assert NOW + 8 <= done.next_due_ms / 1000 <= NOW + 12  # ten seconds, jittered
    assert done.delivery["next_attempt_at"] == rfc3339(done.next_due_ms / 1000)
    assert done.webhook_note == "HTTP 500"

    last = domain.after_attempt(done.delivery, _answer(error="ConnectTimeout: slow"), (10.0,),
                                NOW)
    assert last.delivery["status"] == "exhausted" and last.delivery["attempts_made"] == 2
    assert last.next_due_ms is None and last.delivery["next_attempt_at"] is None
    assert (last.verdict, last.webhook_note) == ("failed", "ConnectTimeout: slow")


def test_a_receivers_retry_after_is_never_undercut():
    done = domain.after_attempt(PENDING, _answer(503, retry_after=600.0), (1.0,), NOW)
    assert done.next_due_ms == int((NOW + 600) * 1000)


def test_an_abandoned_delivery_says_why_in_its_log():
    delivery, attempt = domain.abandoned(PENDING, domain.WEBHOOK_GONE, NOW)
    assert (delivery["status"], delivery["next_attempt_at"]) == ("abandoned", None)
    assert attempt == {"at": rfc3339(NOW), "status_code": None,
                       "error": domain.WEBHOOK_GONE}
