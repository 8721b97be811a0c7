"""Every endpoint × every kind of caller, against CONTRACT §2: exactly what each may do, and a
refused call changes nothing.

Callers: admin, the department that owns the records (own_dept), another department, the
township of the village (own_town), another township, an inspector, no key, a revoked key.
"""
import httpx
import pytest
import redis

from services.gateway.http import ROUTES
from tests.support.infra import amqp_uri_for, settled, snapshot, temporary_vhost
from tests.support.system import isolated_system, wait_until

pytestmark = pytest.mark.e2e

MATRIX_REDIS_DB = 11
KEYED = ("admin", "own_dept", "other_dept", "own_town", "other_town", "inspector")
EVERYONE = set(KEYED)
T1, T2 = "610581100", "610581101"
V1, V2 = f"{T1}201", f"{T2}201"

# Refused callers who may not even see the record a path (or body) names get the answer an
# unknown id gets, not 403 (CONTRACT §2: nothing tells another township's or department's
# record from a made-up id); 403 is for a caller who sees it but may not do this.
HIDDEN = EVERYONE  # none of the refused callers sees the record
OTHERS = {"other_dept", "other_town"}  # the refused who do not see it; the others get 403

# (method, path with {names} from the world, body) -> who may[, the refused who may not see
# the record[, the status an unknown id gets, if not 404]].
MATRIX = [
    ("POST", "/v1/api-keys", {"principal": "inspector:新"}, {"admin"}),
    ("DELETE", "/v1/api-keys/{spare_key}", None, {"admin"}),
    ("PUT", f"/v1/townships/{T1}", {"name": "龙门镇", "county_code": "610581"}, {"admin"}),
    ("GET", "/v1/townships", None, EVERYONE),
    ("GET", f"/v1/townships/{T1}", None, EVERYONE - {"other_town"}),
    ("PUT", f"/v1/villages/{V1}", {"name": "东村", "township_code": T1, "hardship": 5},
     {"admin"}),
    ("GET", f"/v1/villages?township={T1}", None, EVERYONE - {"other_town"}),
    ("GET", f"/v1/villages/{V1}", None, EVERYONE - {"other_town"}),
    ("PUT", "/v1/departments/agri", {"name": "农业局", "level": "county"}, {"admin"}),
    ("GET", "/v1/departments", None, EVERYONE),
    ("GET", "/v1/departments/agri", None, EVERYONE),
    ("POST", "/v1/cadres", {"name": "新干部", "department_code": "agri"},
     {"admin", "own_dept"}),
    ("GET", "/v1/cadres?department=agri", None, {"admin", "own_dept", "inspector"}),
    ("GET", "/v1/cadres/{cadre}", None, {"admin", "own_dept", "inspector", "own_town"},
     HIDDEN),
    ("GET", "/v1/cadres/{cadre}/assignments", None, {"admin", "own_dept", "inspector"},
     OTHERS),  # own_town sees the cadre serving in its village, not its history
    ("GET", "/v1/cadres/{cadre}/work-summary", None,
     {"admin", "own_dept", "inspector", "own_town"}, HIDDEN),
    ("POST", "/v1/assignments", {"cadre_id": "{free_cadre}", "village_code": V1,
                                 "role": "member", "starts_on": "2026-01-01",
                                 "ends_on": "2026-12-31"}, {"admin", "own_dept"},
     OTHERS | {"own_town"}, 422),  # unknown-cadre: the free cadre serves nowhere
    ("POST", "/v1/assignments/{ending}/end", {"reason": "completed"}, {"admin", "own_dept"},
     OTHERS),
    ("GET", f"/v1/villages/{V1}/team", None, {"admin", "inspector", "own_town", "own_dept"}),
    ("POST", "/v1/assignments/{assignment}/logs", {"date": "2026-03-01", "task": "plan",
                                                   "households_visited": 3, "note": ""},
     {"admin", "own_dept"}, OTHERS),
    ("GET", f"/v1/villages/{V1}/work-summary", None,
     {"admin", "inspector", "own_town", "own_dept"}),
    ("POST", f"/v1/villages/{V1}/problems", {"category": "plan", "title": "规划"},
     {"admin", "own_town", "own_dept"}),
    ("GET", f"/v1/villages/{V1}/problems", None, {"admin", "inspector", "own_town",
                                                   "own_dept"}),
    ("POST", "/v1/problems/{problem}/resolve", {"resolution": "已解决"},
     {"admin", "own_town"}, OTHERS),  # own_dept serves there: it sees the problem
    ("POST", "/v1/inspections", {"village_code": V1, "planned_for": "2026-12-01"},
     {"admin", "inspector"}),
    ("POST", "/v1/inspections/{planned}/report", {"visited_on": "2026-12-01", "score": 80,
                                                  "findings": []},
     {"admin", "inspector"}, HIDDEN),
    ("GET", f"/v1/inspections?village={V1}", None, {"admin", "inspector", "own_town"}),
    ("GET", "/v1/inspections/{planned}", None, {"admin", "inspector"}, HIDDEN),
    ("GET", "/v1/inspections/{filed}", None, {"admin", "inspector", "own_town"}, HIDDEN),
    ("POST", "/v1/departments/agri/pool", {"kind": "cement", "unit": "吨", "quantity": "1"},
     {"admin", "own_dept"}),
    ("GET", "/v1/departments/agri/pool", None, {"admin", "own_dept", "inspector"}),
    ("POST", "/v1/commitments", {"department_code": "agri", "village_code": V1,
                                 "kind": "cement", "unit": "吨", "quantity": "1"},
     {"admin", "own_dept"}),
    ("GET", "/v1/commitments", None, EVERYONE),
    ("GET", "/v1/commitments?department=agri", None, EVERYONE - {"other_dept"}),
    ("GET", f"/v1/commitments?village={V1}", None, EVERYONE - {"other_town"}),
    ("GET", "/v1/commitments/{commitment}", None,
     {"admin", "inspector", "own_dept", "own_town"}, HIDDEN),
    ("POST", "/v1/commitments/{commitment}/deliver", {}, {"admin", "own_dept"}, OTHERS),
    ("POST", "/v1/commitments/{delivered}/confirm", None, {"admin", "own_town"}, OTHERS),
    ("POST", "/v1/commitments/{cancellable}/cancel", {"reason": "调整"}, {"admin", "own_dept"},
     OTHERS),
    ("GET", f"/v1/villages/{V1}/resources", None, EVERYONE - {"other_town"}),
    ("POST", f"/v1/villages/{V1}/needs", {"kind": "cement", "unit": "吨", "quantity": "5",
                                          "category": "economy", "purpose": "晾晒场"},
     {"admin", "own_town"}),
    ("GET", "/v1/needs", None, EVERYONE),
    ("GET", f"/v1/needs?township={T1}", None, EVERYONE - {"other_town"}),
    ("GET", f"/v1/villages/{V1}/needs", None, EVERYONE - {"other_town"}),
    ("GET", f"/v1/townships/{T1}/notifications", None, {"admin", "own_town", "inspector"}),
    ("POST", f"/v1/townships/{T1}/notifications/{{notification}}/ack", None,
     {"admin", "own_town"}),
    ("GET", f"/v1/townships/{T1}/stream", None, {"admin", "own_town", "inspector"}),
    ("POST", f"/v1/townships/{T1}/webhooks", {"url": "http://127.0.0.1:9/h",
                                              "types": ["assignment.inspection_filed"]},
     {"admin", "own_town"}),
    ("GET", f"/v1/townships/{T1}/webhooks", None, {"admin", "own_town", "inspector"}),
    ("DELETE", f"/v1/townships/{T1}/webhooks/{{webhook}}", None, {"admin", "own_town"}),
    ("GET", f"/v1/townships/{T1}/webhooks/{{webhook}}/deliveries", None,
     {"admin", "own_town", "inspector"}),
    ("POST", f"/v1/townships/{T1}/webhooks/{{webhook}}/deliveries/dlv_none/retry", None,
     {"admin", "own_town"}),
    ("GET", "/v1/admin/feeds", None, {"admin"}),
]


def fill(template, world):
    if isinstance(template, str):
        return template.format(**world)
    if isinstance(template, dict):
        return {k: fill(v, world) for k, v in template.items()}
    return template


@pytest.fixture(scope="module")
def world(broker_admin, redis_server):
    with temporary_vhost(broker_admin) as vhost, \
            isolated_system(amqp_uri_for(vhost), redis_server.flushed_url(MATRIX_REDIS_DB)) \
            as system:
        yield build_world(system), system


def build_world(system):
    admin = system.client()
    for code in (T1, T2):
        admin.put(f"/v1/townships/{code}", json={"name": "镇", "county_code": "610581"})
        admin.put(f"/v1/villages/{code}201", json={"name": "村", "township_code": code,
                                                   "hardship": 3})
    for code in ("agri", "water"):
        admin.put(f"/v1/departments/{code}", json={"name": "局", "level": "county"})
    admin.post("/v1/departments/agri/pool", json={"kind": "cement", "unit": "吨",
                                                   "quantity": "100"})

    def key(principal):
        return admin.post("/v1/api-keys", json={"principal": principal}).json()

    keys = {"admin": system.admin_token, "own_dept": key("department:agri")["key"],
            "other_dept": key("department:water")["key"], "own_town": key(f"township:{T1}")["key"],
            "other_town": key(f"township:{T2}")["key"],
            "inspector": key("inspector:省督查组")["key"]}
    revoked = key("inspector:已撤销")
    admin.delete(f"/v1/api-keys/{revoked['id']}")
    keys["revoked"] = revoked["key"]

    def cadre(name):
        return admin.post("/v1/cadres", json={"name": name, "department_code": "agri"}).json()

    def assign(cadre_id):
        return admin.post("/v1/assignments", json={
            "cadre_id": cadre_id, "village_code": V1, "role": "member",
            "starts_on": "2026-01-01", "ends_on": "2026-12-31"}).json()

    serving, leaving = cadre("甲"), cadre("乙")
    assignment, ending = assign(serving["id"]), assign(leaving["id"])
    commitments = [admin.post("/v1/commitments", json={
        "department_code": "agri", "village_code": V1, "kind": "cement", "unit": "吨",
        "quantity": "2"}).json() for _ in range(3)]
    admin.post(f"/v1/commitments/{commitments[1]['id']}/deliver", json={})
    problem = admin.post(f"/v1/villages/{V1}/problems", json={"category": "plan",
                                                             "title": "x"}).json()
    planned = admin.post("/v1/inspections", json={"village_code": V1,
                                                  "planned_for": "2026-12-01"}).json()
    filed = admin.post("/v1/inspections", json={"village_code": V1,
                                                "planned_for": "2026-11-01"}).json()
    admin.post(f"/v1/inspections/{filed['id']}/report", json={
        "visited_on": "2026-11-01", "score": 90, "findings": []})
    webhook = admin.post(f"/v1/townships/{T1}/webhooks", json={
        "url": "http://127.0.0.1:9/h", "types": ["resources.need_raised"]}).json()
    notification = wait_until(lambda: admin.get(f"/v1/townships/{T1}/notifications")
                              .json()["items"], 10, what="a notification")[0]
    return {"keys": keys, "cadre": serving["id"], "free_cadre": cadre("丙")["id"],
            "assignment": assignment["id"], "ending": ending["id"],
            "commitment": commitments[0]["id"], "delivered": commitments[1]["id"],
            "cancellable": commitments[2]["id"], "problem": problem["id"],
            "planned": planned["id"], "filed": filed["id"], "webhook": webhook["id"],
            "notification": notification["id"], "spare_key": key("inspector:备用")["id"]}


def call(system, key, method, path, body):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if path.endswith("/stream"):
        with httpx.stream(method, system.base_url + path, headers=headers, timeout=5) as r:
            return r.status_code
    return httpx.request(method, system.base_url + path, headers=headers, json=body,
                         timeout=10).status_code


def changed(before: dict, after: dict) -> list:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def test_the_matrix_covers_every_authenticated_route():
    covered = {(m, p.split("?")[0]) for m, p, *_ in MATRIX}
    for spec in ROUTES:
        if spec.allow is None:
            continue
        pattern = spec.openapi_path
        assert any(m == spec.method and _matches(pattern, p) for m, p in covered), \
            f"{spec.method} {spec.path} has no row in the matrix"


def _matches(pattern: str, path: str) -> bool:
    import re
    return re.fullmatch(re.sub(r"{[a-z_]+}", "[^/]+", pattern), path) is not None


def test_refused_callers_are_refused_and_change_nothing(world):
    world, system = world
    keys = world["keys"]
    store = redis.Redis.from_url(system.env["REDIS_URL"])
    before = settled(store, timeout=10)
    wrong = []
    for method, path, body, allowed, *unseen in MATRIX:
        path, body = fill(path, world), fill(body, world)
        hidden_from = unseen[0] if unseen else set()
        unknown = unseen[1] if len(unseen) > 1 else 404
        for who in [*sorted(EVERYONE - allowed), None, "revoked"]:
            status = call(system, keys.get(who) if who else None, method, path, body)
            expected = (401 if who in (None, "revoked")
                        else unknown if who in hidden_from else 403)
            if status != expected:
                wrong.append(f"{method} {path} as {who}: {status}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    assert changed(before, snapshot(store)) == [], "a refused call changed these"


def test_allowed_callers_get_past_the_door(world):
    world, system = world
    wrong = []
    for method, path, body, allowed, *unseen in MATRIX:
        path, body = fill(path, world), fill(body, world)
        for who in sorted(allowed):
            status = call(system, world["keys"][who], method, path, body)
            if status in (401, 403) or (unseen and status == 404) or status >= 500:
                wrong.append(f"{method} {path} as {who}: {status}")
    assert not wrong, "\n".join(wrong)
