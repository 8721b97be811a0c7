"""The HTTP API fuzzed from its own OpenAPI document (schemathesis): no 5xx, every error a
problem+json that says what was wrong, and a rejected request leaves the store as it was."""
import time

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.fuzz.conftest import EXAMPLES, THOROUGH
from tests.support.infra import settled, snapshot

pytestmark = pytest.mark.fuzz

NOT_FUZZED = {"/v1/townships/{code}/stream"}  # answers forever, by design


@pytest.fixture(scope="session")
def api_schema(fuzz_system):
    # The coverage phase (every boundary and negative case of every field) takes minutes:
    # `make fuzz` runs it, `make test` runs the random phases only.
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": THOROUGH}}})
    return schemathesis.openapi.from_url(f"{fuzz_system.base_url}/openapi.json",
                                         config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_fuzzed_requests_never_fail_the_server_nor_half_apply(case, fuzz_system):
    if case.path in NOT_FUZZED:
        pytest.skip("streams forever")
    store = redis.Redis.from_url(fuzz_system.env["REDIS_URL"])
    before = settled(store)
    case.headers = {**(case.headers or {}),
                    "Authorization": f"Bearer {fuzz_system.admin_token}"}
    response = case.call(base_url=fuzz_system.base_url, timeout=15)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        content_type = response.headers["content-type"]  # schemathesis keeps every value
        assert content_type[0].startswith("application/problem+json"), content_type
        problem = response.json()
        assert problem["type"] and problem["detail"] and problem["status"] == \
            response.status_code
        time.sleep(0.2)  # anything this request set going would show by now
        assert snapshot(store) == before, f"{case.method} {case.path} was refused " \
                                          f"({response.status_code}) but changed the store"
