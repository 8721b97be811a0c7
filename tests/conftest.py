"""Test configuration shared by every layer.

eventlet's monkey patch comes first, as `nameko test` would apply it: nameko's containers in
the integration tests need green sockets and threads.
"""
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402

import pytest  # noqa: E402

from tests.support.infra import (  # noqa: E402
    BrokerAdmin,
    amqp_uri_for,
    flushed_redis_url,
    temporary_vhost,
)

# Redis databases the tests may flush; 0 stays the developer's own.
INTEGRATION_REDIS_DB = int(os.environ.get("GUABANG_TEST_REDIS_DB", "15"))


@pytest.fixture(scope="session")
def broker_admin():
    return BrokerAdmin.from_env()


@pytest.fixture
def vhost(broker_admin):
    """A fresh RabbitMQ virtual host for one test, deleted afterwards."""
    with temporary_vhost(broker_admin) as name:
        yield name


@pytest.fixture
def amqp_uri(vhost):
    return amqp_uri_for(vhost)


@pytest.fixture
def redis_url():
    """A Redis database emptied before the test."""
    return flushed_redis_url(INTEGRATION_REDIS_DB)
