"""Broker accounts for department systems (CONTRACT §5), made through RabbitMQ's management API.

A department's account `dept-<code>` may publish to `guabang.ingress` and may declare, read and
delete only queues named `dept-<code>.*` (its reply queues); it can read nothing else, so it
sees no other department's replies nor any internal queue. RabbitMQ checks the `user_id` of
what it publishes, which is how the ingress consumer knows the sender.
"""
from __future__ import annotations

import re
import secrets
from urllib.parse import quote, unquote, urlparse

import httpx

from services.common.config import Settings
from services.common.contract.codes import is_department_code


class BrokerAccountError(Exception):
    pass


def account_name(department_code: str) -> str:
    return f"dept-{department_code}"


def department_of_account(user_id: str | None) -> str | None:
    """The department a broker account belongs to, or None for any other account."""
    if user_id and user_id.startswith("dept-") and is_department_code(user_id[5:]):
        return user_id[5:]
    return None


def permissions(department_code: str) -> dict[str, str]:
    own_queues = rf"^{re.escape(account_name(department_code))}\..*"
    return {
        "configure": f"{own_queues}$",
        "write": rf"^guabang\.ingress$|{own_queues}$",
        "read": f"{own_queues}$",
    }


def vhost_of(amqp_uri: str) -> str:
    path = urlparse(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def add_department_account(settings: Settings, department_code: str) -> str:
    """Create (or reset) the department's account; returns its new password."""
    if not is_department_code(department_code):
        raise BrokerAccountError(f"not a department code: {department_code!r}")
    management = urlparse(settings.management_url)
    auth = (unquote(management.username or "guest"), unquote(management.password or "guest"))
    base = f"{management.scheme}://{management.hostname}:{management.port or 15672}/api"
    user = account_name(department_code)
    vhost = quote(vhost_of(settings.amqp_uri), safe="")
    password = secrets.token_urlsafe(24)
    try:
        with httpx.Client(auth=auth, timeout=10) as client:
            client.put(f"{base}/users/{user}",
                       json={"password": password, "tags": ""}).raise_for_status()
            client.put(f"{base}/permissions/{vhost}/{user}",
                       json=permissions(department_code)).raise_for_status()
    except httpx.HTTPError as exc:
        raise BrokerAccountError(
            f"the RabbitMQ management API at {base} refused or did not answer ({exc}); "
            "is the management plugin enabled (rabbitmq-plugins enable rabbitmq_management) "
            "and RABBITMQ_MANAGEMENT_URL right?") from None
    return password
