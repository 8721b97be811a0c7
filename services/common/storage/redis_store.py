"""A Redis client per service container, injected as a nameko dependency."""
from __future__ import annotations

import redis
from nameko.extensions import DependencyProvider

from services.common.config import settings_of

# What redis-py raises when the server does not answer: refused, reset, timed out, or still
# loading its data after a restart (BusyLoadingError is a ConnectionError).
STORE_DOWN = (redis.ConnectionError, redis.TimeoutError)


def connect(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)


class Store(DependencyProvider):
    """Injects `store_class(redis_client)`: the service's own Redis access layer."""

    def __init__(self, store_class):
        self.store_class = store_class
        self.client: redis.Redis | None = None

    def setup(self):
        self.client = connect(settings_of(self.container).redis_url)
        self.store = self.store_class(self.client)

    def stop(self):
        if self.client is not None:
            self.client.close()

    def get_dependency(self, worker_ctx):
        return self.store
