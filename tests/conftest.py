"""Test configuration shared by every layer.

eventlet's monkey patch comes first, as `nameko test` would apply it: nameko's containers in
the integration tests need green sockets and threads.
"""
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402

from tests.support.infra import (  # noqa: E402
    BrokerAdmin,
    amqp_uri_for,
    left_by_a_dead_run,
    made_by_this_run,
    temporary_vhost,
)
from tests.support.redis_server import RedisServer  # noqa: E402

# The database of the session's Redis the integration tests flush before each test.
INTEGRATION_REDIS_DB = int(os.environ.get("GUABANG_TEST_REDIS_DB", "15"))


@pytest.fixture(scope="session")
def broker_admin():
    """RabbitMQ's management API. What dead test runs left on the broker is removed first, and
    what this run made is gone at the end, whatever a test's own clean-up missed."""
    admin = BrokerAdmin.from_env()
    try:
        admin.remove_marked(left_by_a_dead_run)
    except httpx.ConnectError:
        pytest.exit(f"RabbitMQ's management API does not answer at {admin.base}: run "
                    "`make test` (it enables the plugin) or `rabbitmq-plugins enable "
                    "rabbitmq_management`", returncode=3)
    yield admin
    admin.remove_marked(made_by_this_run)


@pytest.fixture(scope="session")
def redis_server():
    """This run's own redis-server (nothing kept on disk), stopped at the end of the session:
    two runs at once, or a developer's `make run`, never share a Redis database."""
    if shutil.which("redis-server") is None:
        pytest.exit("redis-server is not installed; the tests run their own: "
                    "`apt-get install redis-server`", returncode=3)
    directory = Path(tempfile.mkdtemp(prefix="guabang-test-redis-"))
    server = RedisServer(directory)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def vhost(broker_admin):
    """A fresh RabbitMQ virtual host for one test, deleted afterwards."""
    with temporary_vhost(broker_admin) as name:
        yield name


@pytest.fixture
def amqp_uri(vhost):
    return amqp_uri_for(vhost)


@pytest.fixture
def redis_url(redis_server):
    """A database of the session's Redis, emptied before the test."""
    return redis_server.flushed_url(INTEGRATION_REDIS_DB)
