"""End to end: the system started as a user starts it, driven over HTTP only."""
import itertools
import random

import pytest

from tests.support.infra import amqp_uri_for, run_department, temporary_vhost
from tests.support.system import isolated_system

E2E_REDIS_DB = 14
# A county code no real county has, so test townships never meet imported real ones.
TEST_COUNTY = "619999"


@pytest.fixture(scope="session")
def system(broker_admin, redis_server):
    """Every service in its own process, shared by the tests of the session."""
    with temporary_vhost(broker_admin) as vhost, \
            isolated_system(amqp_uri_for(vhost), redis_server.flushed_url(E2E_REDIS_DB)) \
            as running:
        yield running


_township_numbers = itertools.count(random.randrange(100, 800))


@pytest.fixture
def county(system):
    """A fresh township with one village and a department, registered over HTTP by the admin.
    The department's code is this run's own (tests give it a broker account)."""
    township = f"{TEST_COUNTY}{next(_township_numbers):03d}"
    village = f"{township}201"
    department = run_department(f"agri-{township}")
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
