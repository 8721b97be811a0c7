"""Fuzzing runs against its own system, so that it can read the whole store around each call."""
import os

import pytest

from tests.support.infra import amqp_uri_for, temporary_vhost
from tests.support.system import isolated_system

FUZZ_REDIS_DB = 10
# Examples per operation: small in `make test`, larger with `make fuzz`.
EXAMPLES = int(os.environ.get("GUABANG_FUZZ_EXAMPLES", "3"))
THOROUGH = os.environ.get("GUABANG_FUZZ_THOROUGH") == "1"


@pytest.fixture(scope="session")
def fuzz_system(broker_admin, redis_server):
    with temporary_vhost(broker_admin) as vhost, \
            isolated_system(amqp_uri_for(vhost), redis_server.flushed_url(FUZZ_REDIS_DB)) \
            as system:
        yield system
