"""`guabang directory import-county` and `make demo`, as an operator runs them."""
import os
import socket
import subprocess
import sys

import pytest

from tests.support.infra import amqp_uri_for
from tests.support.system import ROOT, free_port, wait_until

pytestmark = pytest.mark.e2e

# 韩城市 (Shaanxi): its eight townships in the Ministry of Civil Affairs' list, 2025-12-31.
HANCHENG_TOWNSHIPS = {
    "610581001": "新城街道", "610581002": "金城街道", "610581100": "龙门镇",
    "610581101": "桑树坪镇", "610581103": "芝川镇", "610581104": "西庄镇",
    "610581106": "芝阳镇", "610581108": "板桥镇",
}


def import_county(system, *args):
    return subprocess.run([sys.executable, "-m", "services.cli", "directory", "import-county",
                           *args], env=system.env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_import_loads_a_real_countys_townships_and_the_sample_villages(system, tmp_path):
    result = import_county(system, "610581", "--sample")
    assert result.returncode == 0, result.stderr
    assert "8 townships, 9 villages" in result.stdout
    with system.client() as admin:
        def townships():
            items = admin.get("/v1/townships", params={"limit": 500}).json()["items"]
            return {t["code"]: t["name"] for t in items if t["county_code"] == "610581"}

        assert townships() == HANCHENG_TOWNSHIPS
        villages = admin.get("/v1/villages", params={"township": "610581106"}).json()["items"]
        assert [(v["code"], v["hardship"]) for v in villages] == [("610581106201", 5)]
        assert "示例数据" in villages[0]["tags"]

        # announced like any PUT: the resources service can commit to an imported village
        admin.put("/v1/departments/import-check", json={"name": "检查局", "level": "county"})
        admin.post("/v1/departments/import-check/pool",
                   json={"kind": "funds", "unit": "元", "quantity": "10"})
        committed = admin.post("/v1/commitments", json={
            "department_code": "import-check", "village_code": "610581106201",
            "kind": "funds", "unit": "元", "quantity": "1"})
        assert committed.status_code == 201, committed.text
        assert committed.json()["township_code"] == "610581106"


def test_a_bad_villages_file_imports_nothing(system, tmp_path):
    villages = tmp_path / "villages.csv"
    villages.write_text("code,name,township_code,hardship,tags\n"
                        "610582100201,好村,610582100,3,\n"          # not this county's
                        "610581100299,坏村,610581101,3,\n"          # code not under township
                        "610581100298,难村,610581100,9,\n")         # hardship out of range
    result = import_county(system, "610581", "--villages", str(villages))
    assert result.returncode == 1
    assert result.stderr.count("row") == 3
    with system.client() as admin:
        assert admin.get("/v1/villages/610581100298").status_code == 404
    unknown = import_county(system, "999999")
    assert unknown.returncode == 1 and "no townships" in unknown.stderr


def test_make_demo_walks_its_scenario_end_to_end(vhost, redis_server):
    port = free_port()
    env = {**os.environ, "GUABANG_DEMO_PORT": str(port), "AMQP_URI": amqp_uri_for(vhost),
           "GUABANG_DEMO_REDIS_URL": redis_server.url_for(10)}
    result = subprocess.run([sys.executable, "scripts/demo.py"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "409 cadre-already-assigned" in out and "409 insufficient-pool" in out
    assert "404 not-found: inspection" in out  # the township cannot see the planned one
    assert "暗访检查报告已提交，得分86" in out  # and is told once it is filed

    def port_closed():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) != 0

    wait_until(port_closed, 20, what="the demo's system to stop")
