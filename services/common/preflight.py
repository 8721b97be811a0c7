"""Checks that the broker and the store answer, with a message that says what to do if not."""
from __future__ import annotations

import redis
from kombu import Connection
from kombu.utils.url import maybe_sanitize_url

from services.common.config import Settings


def problems_with(settings: Settings) -> list[str]:
    found = []
    try:
        with Connection(settings.amqp_uri, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:
        found.append(
            f"RabbitMQ does not answer at {maybe_sanitize_url(settings.amqp_uri)} ({exc}).\n"
            "  Start it (`rabbitmq-server -detached`) or point AMQP_URI at a running broker."
        )
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        found.append(
            f"Redis does not answer at {maybe_sanitize_url(settings.redis_url)} ({exc}).\n"
            "  Start it (`redis-server --daemonize yes --bind 127.0.0.1 --port 6379`) "
            "or point REDIS_URL at a running Redis."
        )
    return found
