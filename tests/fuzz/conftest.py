"""Fuzzing runs against its own system, so that it can read the whole store around each call."""
import os

import pytest
import redis

from tests.support.infra import amqp_uri_for, redis_url_for
from tests.support.system import System

FUZZ_REDIS_DB = 10
# Examples per operation: small in `make test`, larger with `make fuzz`.
EXAMPLES = int(os.environ.get("GUABANG_FUZZ_EXAMPLES", "3"))
THOROUGH = os.environ.get("GUABANG_FUZZ_THOROUGH") == "1"


@pytest.fixture(scope="session")
def fuzz_system(broker_admin):
    vhost = broker_admin.create_vhost()
    url = redis_url_for(FUZZ_REDIS_DB)
    redis.Redis.from_url(url).flushdb()
    system = System(amqp_uri_for(vhost), url).start()
    try:
        system.wait_healthy()
        yield system
    finally:
        system.stop()
        broker_admin.delete_vhost(vhost)
