import pytest

from services.common.config import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(amqp_uri, redis_url):
    return Settings(amqp_uri=amqp_uri, redis_url=redis_url, handler_retry_delays=(0.2, 0.4))


@pytest.fixture
def nameko_config(settings):
    return settings.nameko_config()


@pytest.fixture
def redis_client(redis_url):
    from services.common.storage.redis_store import connect

    client = connect(redis_url)
    yield client
    client.close()


@pytest.fixture
def round_trips(monkeypatch):
    """How many requests went to Redis (a pipeline is one) since the last `clear()`."""
    from redis.connection import Connection

    sent = []
    send = Connection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


@pytest.fixture(autouse=True)
def _broker_outlives_containers(request):
    """Set the vhost up before any container, so containers stop before it is deleted."""
    if "container_factory" in request.fixturenames:
        request.getfixturevalue("vhost")
