"""What the service keeps from events: the directory, villages' views of their commitments
and needs' shares of them; and the holds it gives back on its own."""
from services.common.contract import events
from services.resources.store import PENDING_HOLDS, need_hold
from services.resources.use_cases import commitments, needs, projections, views
from tests.unit.resources.conftest import (
    ADMIN,
    AGRI,
    TOWN,
    V1,
    commitment_body,
    directory,
    events_in,
    need_body,
    project,
)


def test_a_directory_event_is_applied_once_and_never_over_a_newer_revision(store):
    def village(revision, name):
        return events.make_event("assignment.village_registered", events.VillageRegistered(
            code=V1, name=name, township_code=V1[:9], hardship=3, tags=[],
            revision=revision), township_code=V1[:9], village_code=V1).model_dump(mode="json")

    newer = village(2, "东村(新)")
    assert projections.apply_directory_event(store, newer)
    assert not projections.apply_directory_event(store, newer)
    assert not projections.apply_directory_event(store, village(1, "东村"))
    assert store.directory.get("village", V1)["name"] == "东村(新)"


def test_each_step_of_a_commitment_is_applied_to_its_village_once(pooled, redis):
    made = commitments.commit_resources(pooled, directory,
                                        ADMIN, commitment_body("30"))["commitment"]
    commitments.deliver(pooled, AGRI, made["id"], {"quantity": "25"})
    applied = [projections.apply_commitment_event(pooled, e)
               for e in events_in(redis, "dept:agri")[1:] * 2]
    assert applied == [True, True, False, False]  # redelivered: nothing more
    [line] = views.village_resources(pooled, directory, TOWN, V1)["items"]
    assert (line["committed"], line["delivered"]) == ("0.00", "25.00")
    listed = views.list_commitments(pooled, TOWN, village=V1, status="delivered")
    assert [c["id"] for c in listed["items"]] == [made["id"]]
    assert views.list_commitments(pooled, TOWN, village=V1, status="committed")["items"] == []


def test_a_delivery_counts_for_its_need_and_a_cancellation_gives_its_hold_back(pooled, redis):
    need = needs.raise_need(pooled, directory, TOWN, V1, need_body("40"))["need"]

    def offer(quantity):
        return commitments.commit_resources(pooled, directory, ADMIN, commitment_body(
            quantity, need_id=need["id"]))["commitment"]

    delivered, cancelled = offer("30"), offer("10")
    commitments.deliver(pooled, AGRI, delivered["id"], {"quantity": "20"})
    commitments.cancel(pooled, AGRI, cancelled["id"], {"reason": "调整"})

    def need_now():
        return needs.village_needs(pooled, directory, TOWN, V1)["items"][0]

    assert (need_now()["committed"], need_now()["delivered"]) == ("40.00", "0.00")
    project(pooled, redis)
    project(pooled, redis)  # each applied twice
    now = need_now()
    assert (now["committed"], now["delivered"], now["lacking"], now["status"]) == (
        "20.00", "20.00", "20.00", "open")


def test_a_hold_no_commitment_followed_goes_back_to_its_need(store, redis):
    need = needs.raise_need(store, directory, TOWN, V1, need_body("10"))["need"]
    lost = {"id": "cmt_lost", "village_code": V1, "kind": "cement", "unit": "吨"}
    # the process died after holding the need, before the pool was asked
    redis.zadd(PENDING_HOLDS, {need_hold(need["id"], "cmt_lost"): 0})
    assert store.hold_need(V1, need["id"], lost, 400).name == "ok"
    assert needs.village_needs(store, directory, TOWN, V1)["items"][0]["committed"] == "4.00"
    # and one whose hold is not there (never made, or given back before): nothing to count
    redis.zadd(PENDING_HOLDS, {need_hold(need["id"], "cmt_unheld"): 0})
    assert projections.give_back_need_holds(store) == 1
    assert needs.village_needs(store, directory, TOWN, V1)["items"][0]["committed"] == "0.00"
    assert projections.give_back_need_holds(store) == 0
