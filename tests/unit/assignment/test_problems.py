"""The problems ledger (use_cases/problems.py): reported by a village's township, the county
and its serving departments; resolved once by its township."""
from services.assignment.use_cases import problems
from tests.unit.assignment.conftest import T1, T2, V1, V1B, as_unknown, refused

PROBLEM = {"category": "plan", "title": "村规划待修编"}


def report(county, village=V1, actor=f"township:{T1}", body=PROBLEM, key=None):
    return problems.report_problem(county.store, actor, village, body, key)


def test_a_reported_problem_is_open_listed_and_announced_to_its_township(county):
    answer = report(county)
    problem = answer["problem"]
    assert not answer["replayed"]
    assert (problem["status"], problem["township_code"], problem["reported_by"]) \
        == ("open", T1, f"township:{T1}")
    [event] = county.outbox()
    assert (event["type"], event["township_code"], event["data"]["category"]) \
        == ("assignment.problem_reported", T1, "plan")
    listed = problems.list_problems(county.store, "admin", V1, "open")["items"]
    assert [p["id"] for p in listed] == [problem["id"]]


def test_who_may_report(county):
    assert report(county, actor="admin")["problem"]
    assert refused(report, county, actor="department:agri").status == 403
    county.assign(county.cadre(), V1)
    assert report(county, actor="department:agri")["problem"]  # serving there now
    assert refused(report, county, actor=f"township:{T2}").status == 403
    assert refused(report, county, actor="inspector:组").status == 403
    assert refused(report, county, village=f"{T1}299").status == 404
    assert refused(report, county, body={"category": "fishing", "title": "x"}).status == 422


def test_a_repeated_key_replays_the_problem_of_that_village_only(county):
    first = report(county, key="k1")
    assert report(county, key="k1") == {"problem": first["problem"], "replayed": True}
    reused = refused(report, county, body={**PROBLEM, "title": "另一个"}, key="k1")
    assert (reused.status, reused.type) == (409, "idempotency-key-reused")
    # The same key and body for a second village is a second problem, there (it replayed the
    # first village's problem before the key was scoped by village).
    second = report(county, village=V1B, key="k1")
    assert not second["replayed"]
    assert (second["problem"]["village_code"], second["problem"]["id"] != first["problem"]["id"]) \
        == (V1B, True)
    assert [p["title"] for p in problems.list_problems(county.store, "admin", V1B)["items"]] \
        == [PROBLEM["title"]]
    assert county.event_types() == ["assignment.problem_reported"] * 2


def test_its_township_resolves_a_problem_once(county):
    problem = report(county)["problem"]
    county.clear_outbox()
    resolve = problems.resolve_problem
    # another township (or a department not serving there) does not see it: told it does not
    # exist; an inspector sees it but may not resolve it
    for actor in (f"township:{T2}", "department:water"):
        hidden = refused(resolve, county.store, actor, problem["id"], {"resolution": "已修编"})
        missing = refused(resolve, county.store, actor, "prb_none", {"resolution": "已修编"})
        assert as_unknown(hidden, missing, problem["id"], "prb_none") and hidden.status == 404
    assert refused(resolve, county.store, "inspector:组", problem["id"],
                   {"resolution": "已修编"}).status == 403
    assert refused(resolve, county.store, "admin", "prb_none", {"resolution": "x"}).status \
        == 404
    resolved = resolve(county.store, f"township:{T1}", problem["id"], {"resolution": "已修编"})
    assert (resolved["status"], resolved["resolution"], resolved["resolved_by"]) \
        == ("resolved", "已修编", f"township:{T1}")
    again = refused(resolve, county.store, "admin", problem["id"], {"resolution": "再"})
    assert (again.status, again.type) == (409, "problem-already-resolved")
    assert county.event_types() == ["assignment.problem_resolved"]
    listed = {status: [p["id"] for p in problems.list_problems(county.store, "admin", V1,
                                                                status)["items"]]
              for status in ("open", "resolved", None)}
    assert listed == {"open": [], "resolved": [problem["id"]], None: [problem["id"]]}


def test_the_ledger_is_read_by_those_who_read_the_village_and_pages(county):
    first, second = report(county)["problem"], report(county, actor="admin")["problem"]
    page = problems.list_problems(county.store, "inspector:组", V1, limit=1)
    assert [p["id"] for p in page["items"]] == [first["id"]] and page["next"] == first["id"]
    rest = problems.list_problems(county.store, f"township:{T1}", V1, after=page["next"])
    assert [p["id"] for p in rest["items"]] == [second["id"]]
    assert refused(problems.list_problems, county.store, f"township:{T2}", V1).status == 403
    assert refused(problems.list_problems, county.store, "department:agri", V1).status == 403
    assert refused(problems.list_problems, county.store, "admin", V1, "closed").status == 422
    assert refused(problems.list_problems, county.store, "admin", f"{T1}299").status == 404
