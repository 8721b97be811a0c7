"""Cadres (use_cases/cadres.py): registered by their department, phone for admin and it."""
from services.assignment.use_cases import cadres
from tests.unit.assignment.conftest import T1, T2, V1, as_unknown, refused

CADRE = {"name": "王建国", "department_code": "agri", "phone": "13800138000", "title": "副局长"}


def test_a_department_registers_its_cadre_and_announces_it_without_the_phone(county):
    answer = cadres.register_cadre(county.store, "department:agri", CADRE)
    assert not answer["replayed"] and answer["cadre"]["phone"] == "13800138000"
    [event] = county.outbox()
    assert event["type"] == "assignment.cadre_registered"
    assert event["data"]["id"] == answer["cadre"]["id"] and "phone" not in event["data"]


def test_only_its_department_or_admin_registers_and_only_a_known_department(county):
    assert refused(cadres.register_cadre, county.store, "department:water", CADRE).status == 403
    assert refused(cadres.register_cadre, county.store, f"township:{T1}", CADRE).status == 403
    unknown = refused(cadres.register_cadre, county.store, "admin",
                      {**CADRE, "department_code": "fish"})
    assert (unknown.status, unknown.type) == (422, "unknown-department")
    assert refused(cadres.register_cadre, county.store, "admin",
                   {**CADRE, "phone": "call me"}).status == 422
    assert county.outbox() == []


def test_a_repeated_key_replays_the_cadre_and_another_body_is_refused(county):
    first = cadres.register_cadre(county.store, "department:agri", CADRE, "k1")
    again = cadres.register_cadre(county.store, "admin", CADRE, "k1")  # the same department
    assert again == {"cadre": first["cadre"], "replayed": True}
    reused = refused(cadres.register_cadre, county.store, "department:agri",
                     {**CADRE, "name": "李"}, "k1")
    assert (reused.status, reused.type) == (409, "idempotency-key-reused")
    # a key is the department's own: another department's same key is a new request
    other = cadres.register_cadre(county.store, "department:water",
                                  {**CADRE, "department_code": "water"}, "k1")
    assert not other["replayed"]
    assert len(county.outbox()) == 2


def test_a_cadre_is_read_by_its_department_readers_and_townships_it_serves(county):
    cadre = county.cadre()
    read = cadres.get_cadre
    assert read(county.store, "department:agri", cadre["id"])["phone"] == "13800138000"
    assert read(county.store, "inspector:组", cadre["id"])["phone"] is None
    assert refused(read, county.store, "admin", "cdr_none").status == 404
    # whoever may not see it is told it does not exist, as for a made-up id
    unseen = (f"township:{T1}", f"township:{T2}", "department:water")
    for actor in unseen:
        hidden = refused(read, county.store, actor, cadre["id"])
        missing = refused(read, county.store, actor, "cdr_none")
        assert as_unknown(hidden, missing, cadre["id"], "cdr_none") and hidden.status == 404
    county.assign(cadre, V1)
    assert read(county.store, f"township:{T1}", cadre["id"])["phone"] is None
    for actor in unseen[1:]:
        assert refused(read, county.store, actor, cadre["id"]).status == 404


def test_a_department_lists_its_own_cadres_and_readers_name_one(county):
    first, second = county.cadre(name="甲"), county.cadre(name="乙")
    county.cadre("water", name="丙")
    own = cadres.list_cadres(county.store, "department:agri", limit=1)
    assert [c["name"] for c in own["items"]] == ["甲"] and own["next"] == first["id"]
    rest = cadres.list_cadres(county.store, "department:agri", after=own["next"])
    assert [c["id"] for c in rest["items"]] == [second["id"]] and rest["next"] is None
    assert rest["items"][0]["phone"] == "13800138000"
    seen = cadres.list_cadres(county.store, "inspector:组", "water")["items"]
    assert [(c["name"], c["phone"]) for c in seen] == [("丙", None)]
    assert refused(cadres.list_cadres, county.store, "department:agri", "water").status == 403
    assert refused(cadres.list_cadres, county.store, f"township:{T1}", "agri").status == 403
    unnamed = refused(cadres.list_cadres, county.store, "admin")
    assert (unnamed.status, unnamed.errors[0]["loc"]) == (422, ["query", "department"])
