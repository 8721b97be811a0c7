"""Redis really stopped: every answer is 503 `service-unavailable`, `/health` says which
Redis is down, and everything answers again once it is back.

The domain services and the gateway each get a redis-server of their own here (a deployment
shares one), so that the outage of the domain services' store and of the gateway's own can be
told apart."""
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer
from tests.support.system import System, wait_until

pytestmark = pytest.mark.e2e

DOMAIN = ("assignment", "resources", "notifications")


@pytest.fixture
def stores():
    base = Path(tempfile.mkdtemp(prefix="guabang-outage-"))
    servers = {name: RedisServer(base / name, durable=True).start()
               for name in ("domain", "gateway")}
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def system(amqp_uri, stores):
    domain = System(amqp_uri, stores["domain"].url).start(*DOMAIN)
    gateway = System(amqp_uri, stores["gateway"].url).start("gateway")
    try:
        gateway.wait_healthy()
        yield gateway
    finally:
        gateway.stop()
        domain.stop()


def test_redis_stopped_gives_503_naming_what_is_down_and_recovery_after(system, stores):
    with system.client() as admin:
        assert admin.put("/v1/departments/agri", json={
            "name": "县农业农村局", "level": "county"}).status_code == 201

        stores["domain"].stop()
        read = admin.get("/v1/departments/agri")
        assert read.status_code == 503, read.text
        assert read.headers["content-type"].startswith("application/problem+json")
        assert read.json()["type"] == "service-unavailable"
        pooled = admin.post("/v1/departments/agri/pool",
                            json={"kind": "cement", "unit": "吨", "quantity": "10"})
        assert pooled.status_code == 503, pooled.text
        health = admin.get("/health")
        assert health.status_code == 503
        assert health.json()["services"] == {name: "down" for name in DOMAIN}
        assert all("Redis" in health.json()["causes"][name] for name in DOMAIN)

        stores["gateway"].stop()
        refused = admin.get("/v1/departments")
        assert refused.status_code == 503
        assert refused.json()["detail"].startswith("the gateway's Redis does not answer")
        assert "Redis" in admin.get("/health").json()["causes"]["gateway"]

        stores["domain"].start()
        stores["gateway"].start()
        system.wait_healthy()
        wait_until(lambda: admin.get("/v1/departments/agri").status_code == 200, 10,
                   what="the department to be read again")
        assert admin.get("/v1/departments/agri").json()["name"] == "县农业农村局"
