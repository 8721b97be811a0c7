"""The broker's definitions file (deploy/rabbitmq/definitions.json), generated from the
topology module so the compose broker can never drift from what the services declare.

`guabang broker definitions > deploy/rabbitmq/definitions.json` rewrites it; a test checks it.
"""
from __future__ import annotations

import base64
import hashlib
import os

from services.common.messaging import topology


def rabbit_password_hash(password: str, salt: bytes | None = None) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = salt if salt is not None else os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _exchange(exchange, vhost: str) -> dict:
    return {"name": exchange.name, "vhost": vhost, "type": exchange.type, "durable": True,
            "auto_delete": False, "internal": False, "arguments": {}}


def _queue(name: str, vhost: str, arguments: dict | None = None) -> dict:
    return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
            "arguments": arguments or {}}


def _binding(exchange: str, queue: str, routing_key: str, vhost: str) -> dict:
    return {"source": exchange, "vhost": vhost, "destination": queue,
            "destination_type": "queue", "routing_key": routing_key, "arguments": {}}


def definitions(user: str = "guest", password: str = "guest", vhost: str = "/") -> dict:
    queues = [_queue(topology.DEAD_LETTER_QUEUE.name, vhost),
              _queue(topology.INGRESS_COMMITMENTS.name, vhost)]
    bindings = [_binding(topology.INGRESS.name, topology.INGRESS_COMMITMENTS.name,
                         topology.INGRESS_COMMITMENTS.routing_key, vhost)]
    for sub in topology.SUBSCRIPTIONS.values():
        queues.append(_queue(sub.queue_name, vhost))
        queues.append(_queue(sub.retry_queue_name, vhost, sub.retry_queue.queue_arguments))
        bindings += [_binding(topology.EVENTS.name, sub.queue_name, event_type, vhost)
                     for event_type in sub.event_types]
    return {
        "users": [{"name": user, "password_hash": rabbit_password_hash(password),
                   "hashing_algorithm": "rabbit_password_hashing_sha256",
                   "tags": ["administrator"]}],
        "vhosts": [{"name": vhost}],
        "permissions": [{"user": user, "vhost": vhost, "configure": ".*", "write": ".*",
                         "read": ".*"}],
        "exchanges": [_exchange(e, vhost) for e in (topology.EVENTS, topology.NOTIFICATIONS,
                                                     topology.INGRESS)],
        "queues": queues,
        "bindings": bindings,
    }
