"""Registering and reading the directory (use_cases/directory.py), and the county import that
registers through it."""
import pytest

from services.assignment.county_import import import_county
from services.assignment.use_cases import assignments, directory, problems, work
from tests.unit.assignment.conftest import T1, T2, V1, V1B, V2, outbox_events, refused


def test_a_township_is_created_then_updated_with_a_growing_revision(store):
    first = directory.register_township(store, T1, {"name": "龙门镇", "county_code": "610581"})
    again = directory.register_township(store, T1, {"name": "龙门镇新", "county_code": "610581"})
    assert first["created"] and not again["created"]
    assert "revision" not in again["township"]
    assert directory.get_township(store, "admin", T1)["name"] == "龙门镇新"
    assert directory.directory_entry(store, "township", T1)["revision"] == 2
    assert [e["data"]["revision"] for e in outbox_events(store)] == [1, 2]


@pytest.mark.parametrize("code, body, loc", [
    ("61058110", {"name": "镇", "county_code": "610581"}, ["path", "code"]),
    (T1, {"name": "镇", "county_code": "610582"}, ["body", "county_code"]),
    (T1, {"name": "", "county_code": "610581"}, ["body", "name"]),
])
def test_a_bad_township_is_refused_with_where_it_is_wrong(store, code, body, loc):
    problem = refused(directory.register_township, store, code, body)
    assert (problem.status, problem.type) == (422, "validation-failed")
    assert problem.errors[0]["loc"] == loc
    assert store.get("township", T1) is None


def test_a_village_needs_its_township_registered_and_a_code_under_it(store):
    body = {"name": "东村", "township_code": T1, "hardship": 5}
    unknown = refused(directory.register_village, store, V1, body)
    assert (unknown.status, unknown.type) == (422, "unknown-township")
    directory.register_township(store, T1, {"name": "龙门镇", "county_code": "610581"})
    elsewhere = refused(directory.register_village, store, V2, body)
    assert elsewhere.errors[0]["loc"] == ["body", "township_code"]
    short = refused(directory.register_village, store, "6105811002", body)
    assert short.errors[0]["loc"] == ["path", "code"]
    assert directory.register_village(store, V1, body)["village"]["hardship"] == 5
    event = outbox_events(store)[-1]
    assert (event["type"], event["township_code"], event["village_code"]) \
        == ("assignment.village_registered", T1, V1)


def test_a_department_code_is_checked(store):
    assert refused(directory.register_department, store, "Agri!",
                   {"name": "局", "level": "county"}).errors[0]["loc"] == ["path", "code"]
    assert directory.register_department(store, "agri", {"name": "县农业农村局",
                                                         "level": "county"})["created"]
    assert directory.get_department(store, "agri")["name"] == "县农业农村局"
    assert refused(directory.get_department, store, "water").status == 404


def test_a_township_reads_only_its_own_township_and_villages(county):
    store = county.store
    own, other = f"township:{T1}", f"township:{T2}"
    assert directory.get_village(store, own, V1)["code"] == V1
    assert refused(directory.get_village, store, other, V1).status == 403
    # refused before it is looked up: a code names its township
    assert refused(directory.get_village, store, other, f"{T1}299").status == 403
    assert refused(directory.get_village, store, own, f"{T1}299").status == 404
    assert directory.get_village(store, "department:agri", V2)["code"] == V2
    assert directory.get_township(store, own, T1)["code"] == T1
    assert refused(directory.get_township, store, other, T1).status == 403
    assert directory.get_township(store, "inspector:组", T1)["code"] == T1


@pytest.mark.parametrize("call", [
    lambda store, actor, code: assignments.village_team(store, actor, code),
    lambda store, actor, code: work.village_work_summary(store, actor, code),
    lambda store, actor, code: problems.list_problems(store, actor, code),
    lambda store, actor, code: problems.report_problem(store, actor, code, {
        "category": "plan", "title": "规划"}),
], ids=["team", "work-summary", "problems", "report-problem"])
def test_a_village_s_records_follow_the_same_rule(county, call):
    """Another township's village is refused on its code, before it is looked up: the answer
    cannot tell a registered village from a made-up code."""
    other = f"township:{T2}"
    registered, unknown = refused(call, county.store, other, V1), refused(
        call, county.store, other, f"{T1}299")
    assert (registered.status, registered.type) == (403, "forbidden")
    assert registered.to_dict() == unknown.to_dict()
    assert refused(call, county.store, "admin", f"{T1}299").status == 404


def test_village_lists_follow_the_same_rule(county):
    store = county.store
    own = f"township:{T1}"
    assert _codes(directory.list_villages(store, own)) == [V1, V1B]
    assert _codes(directory.list_villages(store, own, T1)) == [V1, V1B]
    problem = refused(directory.list_villages, store, own, T2)
    assert (problem.status, problem.type, problem.detail) == (
        403, "forbidden", f"township:{T1} may not read another township's villages")
    assert _codes(directory.list_villages(store, "admin")) == [V1, V1B, V2]
    assert _codes(directory.list_villages(store, "department:agri", T2)) == [V2]


def test_a_township_lists_itself_only_even_before_it_is_registered(county):
    store = county.store
    assert _codes(directory.list_townships(store, f"township:{T2}")) == [T2]
    assert directory.list_townships(store, "township:610581199") == {"items": [], "next": None}
    assert _codes(directory.list_townships(store, "admin")) == [T1, T2]


def test_lists_page_by_code(county):
    first = directory.list_villages(county.store, "admin", limit=2)
    assert _codes(first) == [V1, V1B] and first["next"] == V1B
    rest = directory.list_villages(county.store, "admin", after=first["next"], limit=2)
    assert _codes(rest) == [V2] and rest["next"] is None
    assert refused(directory.list_departments, county.store, limit="0").status == 422


def test_a_projection_asks_only_for_directory_kinds(county):
    assert directory.directory_entry(county.store, "village", V1)["revision"] == 1
    assert directory.directory_entry(county.store, "village", f"{T1}299") is None
    assert refused(directory.directory_entry, county.store, "cadre", "x").status == 422


def test_the_county_import_registers_through_the_same_rules(store, tmp_path):
    villages = tmp_path / "villages.csv"
    villages.write_text("code,name,township_code,hardship,tags\n"
                        f"{V1},东村,{T1},5,花椒;示例\n")
    report = import_county(store, "610581", villages)
    assert (report.errors, report.townships, report.villages) == ([], 8, 1)
    assert directory.get_village(store, "admin", V1)["tags"] == ["花椒", "示例"]
    assert [e["type"] for e in outbox_events(store)].count("assignment.township_registered") == 8

    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,township_code,hardship,tags\n"
                   f"{T1}299,坏村,{T2},3,\n"      # code not under its township
                   f"{T1}298,难村,{T1},9,\n")     # hardship out of range
    again = import_county(store, "610581", bad)
    assert len(again.errors) == 2 and again.villages == 0
    assert store.get("village", f"{T1}298") is None


def _codes(answer: dict) -> list[str]:
    return [item["code"] for item in answer["items"]]

