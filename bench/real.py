"""The real path: Guabang started as `make run` starts it (each service its own `guabang run`
process, through tests.support.system.System) on the bench's vhost and Redis database, then
set up as a county would be: townships with villages, departments with big pools and API
keys, each department's broker account (`guabang broker add-department`), and a webhook per
township pointing at the sink."""
from __future__ import annotations

import os
import secrets

import httpx

from bench.infra import Broker
from bench.load import Department, Target
from tests.support.system import System

COUNTY = "619997"  # no real county has it
POOL = "1000000000"  # a big pool: the bench commits 1 吨 at a time and never runs it dry
EXTRA_ENV = {
    "GUABANG_RATE_LIMIT": "1000000",  # the limit is not what is measured
    "GUABANG_HANDLER_RETRY_DELAYS": "1,5",
}


def county_villages(townships: int, villages_per_township: int) -> list[tuple[str, str]]:
    """(village code, township code) of each village of the bench's county, township by
    township; the baseline's too when it runs without the real path."""
    return [(f"{COUNTY}{101 + t}{201 + v}", f"{COUNTY}{101 + t}")
            for t in range(townships) for v in range(villages_per_township)]


class RealPath:
    def __init__(self, broker: Broker, vhost: str, redis_url: str, departments: int,
                 townships: int, villages_per_township: int):
        self.broker = broker
        self.vhost = vhost
        self.amqp_uri = broker.amqp_uri(vhost)
        self.system = System(self.amqp_uri, redis_url,
                             admin_token="gba_bench_" + secrets.token_urlsafe(16),
                             extra_env=EXTRA_ENV)
        run = secrets.token_hex(2)
        # broker accounts are global to the broker: codes of this run only, never another's
        self.department_codes = [f"bench{run}-{n}" for n in range(departments)]
        self.villages = county_villages(townships, villages_per_township)
        self.townships = list(dict.fromkeys(township for _, township in self.villages))

    def start(self) -> None:
        self.system.start()
        self.system.wait_healthy(timeout=60)

    def pids(self) -> dict[str, int]:
        return {name: p.process.pid for name, p in self.system.processes.items()}

    def sink_bindings(self) -> list[tuple[str, str]]:
        return [(f"bench-township-{code}", f"township.{code}.#") for code in self.townships]

    def set_up(self, webhook_url: str) -> Target:
        departments = []
        with self.system.client(timeout=30) as admin:
            for code in self.townships:
                expect(admin.put(f"/v1/townships/{code}",
                                 json={"name": f"测试镇{code[-3:]}", "county_code": COUNTY}))
            for village, township in self.villages:
                expect(admin.put(f"/v1/villages/{village}",
                                 json={"name": f"测试村{village[-3:]}", "township_code": township,
                                       "hardship": 1 + int(village[-1]) % 5}))
            for code in self.department_codes:
                expect(admin.put(f"/v1/departments/{code}",
                                 json={"name": f"县测试局{code[-1]}", "level": "county"}))
                key = expect(admin.post("/v1/api-keys",
                                        json={"principal": f"department:{code}"}))["key"]
                password = self.broker.add_department(self.vhost, code)
                account = f"dept-{code}"
                departments.append(Department(
                    code, key, self.broker.account_uri(self.vhost, account, password), account))
            for township in self.townships:
                key = expect(admin.post("/v1/api-keys",
                                        json={"principal": f"township:{township}"}))["key"]
                with self.system.client(key, timeout=30) as own:
                    expect(own.post(f"/v1/townships/{township}/webhooks",
                                    json={"url": webhook_url,
                                          "types": ["resources.commitment_created"]}))
        for department in departments:
            with self.system.client(department.api_key, timeout=30) as client:
                expect(client.post(f"/v1/departments/{department.code}/pool",
                                   json={"kind": "cement", "unit": "吨", "quantity": POOL}))
        return Target("real", self.system.port, "/v1/commitments", departments, self.villages)

    def logs(self) -> str:
        return self.system.logs()

    def stop(self) -> None:
        """Stop every process and remove its log file (System keeps them in /tmp)."""
        logs = [p.log.name for p in self.system.processes.values()]
        self.system.stop()
        for name in logs:
            try:
                os.unlink(name)
            except OSError:
                pass


def expect(response: httpx.Response) -> dict:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text[:300]}")
    return response.json()
