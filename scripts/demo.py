"""`make demo`: the programme in five minutes, on a fresh machine.

Starts every service (as `make run` does) against Redis database 9, which it empties first,
imports 韩城市 (county 610581: real townships, sample villages), then walks a scenario over
HTTP, printing each step: a department sends a cadre to the hardest village, the cadre logs
work, a problem is raised and resolved, the department commits seedlings, an unannounced
inspection is planned (the township sees nothing) and filed (the township is told), and the
township reads its inbox. Everything stops at the end.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx
import redis

REDIS_URL = os.environ.get("GUABANG_DEMO_REDIS_URL", "redis://127.0.0.1:6379/9")
PORT = int(os.environ.get("GUABANG_DEMO_PORT", "8000"))
BASE = f"http://127.0.0.1:{PORT}"
ADMIN = "gba_demo_" + secrets.token_urlsafe(12)
COUNTY, TOWNSHIP, VILLAGE = "610581", "610581106", "610581106201"  # 芝阳镇示例沟村, hardship 5


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def show(response: httpx.Response, *fields: str) -> dict:
    body = response.json()
    if response.is_error:
        print(f"   {response.status_code} {body.get('type')}: {body.get('detail')}")
        return body
    shown = {k: body[k] for k in fields if k in body} if fields else body
    print(f"   {response.status_code} {shown}")
    return body


def call(method: str, path: str, key: str = ADMIN, headers: dict | None = None,
         **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **(headers or {})}
    return httpx.request(method, BASE + path, headers=headers, timeout=10, **kwargs)


def key_for(principal: str) -> str:
    return call("POST", "/v1/api-keys", json={"principal": principal}).json()["key"]


def wait_healthy(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(BASE + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the system did not become healthy; see the output above")


def scenario() -> None:
    step("Import 韩城市: its real townships and the sample villages")
    subprocess.run([sys.executable, "-m", "services.cli", "directory", "import-county", COUNTY,
                    "--sample"], check=True, env={**os.environ, "REDIS_URL": REDIS_URL})
    time.sleep(0.5)  # the assignment service announces them; the others project them
    show(call("GET", f"/v1/villages/{VILLAGE}"), "code", "name", "hardship", "tags")

    step("The county registers the agriculture bureau and gives keys to it and the township")
    show(call("PUT", "/v1/departments/agri", json={"name": "韩城市农业农村局",
                                                    "level": "county"}), "code", "name")
    agri, township = key_for("department:agri"), key_for(f"township:{TOWNSHIP}")
    inspector = key_for("inspector:渭南市督查组")

    step("The bureau sends a cadre to the hardest village as first secretary (挂帮)")
    cadre = show(call("POST", "/v1/cadres", agri, json={
        "name": "王建国", "department_code": "agri", "phone": "13800138000",
        "title": "副局长"}), "id", "name", "phone")
    today = date.today()
    assignment = show(call("POST", "/v1/assignments", agri, json={
        "cadre_id": cadre["id"], "village_code": VILLAGE, "role": "first_secretary",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=335)).isoformat()}), "id", "status", "role")
    print("   a second assignment for the same cadre, same dates:")
    show(call("POST", "/v1/assignments", agri, json={
        "cadre_id": cadre["id"], "village_code": "610581100201", "role": "member",
        "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat()}))

    step("The cadre logs two days' work: planning, then one village one product (一村一品)")
    for days_ago, task, households, note in ((3, "plan", 12, "走访农户，梳理发展思路"),
                                             (2, "economy", 20, "黄花菜合作社选址")):
        show(call("POST", f"/v1/assignments/{assignment['id']}/logs", agri, json={
            "date": (today - timedelta(days=days_ago)).isoformat(), "task": task,
            "households_visited": households, "note": note}), "id", "task")
    show(call("GET", f"/v1/villages/{VILLAGE}/work-summary", township),
         "days_logged", "households_visited", "entries_by_task")

    step("The township raises a land dispute in the problems ledger (问题清单) and resolves it")
    problem = show(call("POST", f"/v1/villages/{VILLAGE}/problems", township, json={
        "category": "dispute", "title": "宅基地边界纠纷"}), "id", "status", "title")
    show(call("POST", f"/v1/problems/{problem['id']}/resolve", township, json={
        "resolution": "村委会调解，双方签字确认"}), "status", "resolution")

    step("The bureau pools seedlings and commits them to the village")
    show(call("POST", "/v1/departments/agri/pool", agri, json={
        "kind": "seedlings", "unit": "株", "quantity": "5000"}), "kind", "available")
    show(call("POST", "/v1/commitments", agri, headers={"Idempotency-Key": "demo-1"}, json={
        "department_code": "agri", "village_code": VILLAGE, "kind": "seedlings", "unit": "株",
        "quantity": "3000"}), "id", "status", "quantity")
    print("   committing more than is left:")
    show(call("POST", "/v1/commitments", agri, json={
        "department_code": "agri", "village_code": VILLAGE, "kind": "seedlings", "unit": "株",
        "quantity": "2500"}))

    step("The city plans an unannounced inspection (暗访暗查): the township cannot see it")
    inspection = show(call("POST", "/v1/inspections", inspector, json={
        "village_code": VILLAGE, "planned_for": today.isoformat()}), "id", "status")
    show(call("GET", f"/v1/inspections/{inspection['id']}", township))

    step("The inspectors visit and file their report: now the township is told")
    show(call("POST", f"/v1/inspections/{inspection['id']}/report", inspector, json={
        "visited_on": today.isoformat(), "score": 86, "findings": ["台账齐全", "走访记录详实"],
        "cadres_present": [cadre["id"]], "cadres_absent": []}), "status", "filed_at")

    step("The township reads its inbox (上下联动)")
    time.sleep(1.0)
    items = call("GET", f"/v1/townships/{TOWNSHIP}/notifications", township).json()["items"]
    for item in items:
        print(f"   {item['occurred_at']}  {item['title_zh']}")
        print(f"   {' ' * len(item['occurred_at'])}  {item['title_en']}")


def main() -> int:
    try:
        httpx.get(BASE + "/health", timeout=1)
    except httpx.HTTPError:
        pass
    else:
        raise SystemExit(f"port {PORT} is taken (is `make run` up?): stop it, or run "
                         f"GUABANG_DEMO_PORT=8010 make demo")
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, "REDIS_URL": REDIS_URL, "GUABANG_ADMIN_TOKEN": ADMIN,
           "GUABANG_HTTP_PORT": str(PORT)}
    log = open("demo.log", "w")  # the services' own output, for when something goes wrong
    system = subprocess.Popen([sys.executable, "-m", "services.cli", "start"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy()
        scenario()
        print("\n== Done. The demo's data stays in", REDIS_URL)
        return 0
    finally:
        os.killpg(system.pid, signal.SIGTERM)
        system.wait(30)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
