"""End to end: the system started as a user starts it, driven over HTTP only."""
import itertools
import random

import pytest
import redis

from tests.support.infra import amqp_uri_for, redis_url_for
from tests.support.system import System

E2E_REDIS_DB = 14
# A county code no real county has, so test townships never meet imported real ones.
TEST_COUNTY = "619999"


@pytest.fixture(scope="session")
def e2e_vhost(broker_admin):
    name = broker_admin.create_vhost()
    yield name
    broker_admin.delete_vhost(name)


@pytest.fixture(scope="session")
def e2e_redis_url():
    url = redis_url_for(E2E_REDIS_DB)
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture(scope="session")
def system(e2e_vhost, e2e_redis_url):
    """Every service in its own process, shared by the tests of the session."""
    running = System(amqp_uri_for(e2e_vhost), e2e_redis_url).start()
    try:
        running.wait_healthy()
        yield running
    finally:
        running.stop()


_township_numbers = itertools.count(random.randrange(100, 800))


@pytest.fixture
def county(system):
    """A fresh township with one village and a department, registered over HTTP by the admin."""
    township = f"{TEST_COUNTY}{next(_township_numbers):03d}"
    village = f"{township}201"
    department = f"agri-{township}"
    with system.client() as admin:
        assert admin.put(f"/v1/townships/{township}",
                         json={"name": "城关街道", "county_code": TEST_COUNTY}).status_code == 201
        assert admin.put(f"/v1/villages/{village}",
                         json={"name": "东村", "township_code": township, "hardship": 5,
                               "tags": ["苹果"]}).status_code == 201
        assert admin.put(f"/v1/departments/{department}",
                         json={"name": "县农业农村局", "level": "county"}).status_code == 201
    return {"township": township, "village": village, "department": department}


def create_key(system, principal: str) -> str:
    with system.client() as admin:
        response = admin.post("/v1/api-keys", json={"principal": principal})
    assert response.status_code == 201, response.text
    return response.json()["key"]
