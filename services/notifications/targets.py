"""Where a webhook may point. Operators list allowed networks and host names
(GUABANG_WEBHOOK_ALLOWED) to keep deliveries away from internal addresses; an empty list
allows any http(s) host. Checked when a webhook is made and again before each delivery, since
a name may resolve elsewhere later."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlparse


def _resolve(host: str) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})


def refusal(url: str, allowed: Iterable[str],
            resolve: Callable[[str], list[str]] = _resolve) -> str | None:
    """Why `url` may not receive webhooks, or None when it may."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return "a webhook URL is http:// or https:// with a host"
    if parsed.username or parsed.password:
        return "a webhook URL carries no user name or password"
    allowed = list(allowed)
    if not allowed:
        return None
    host = parsed.hostname.lower()
    if host in {entry.lower() for entry in allowed}:
        return None
    networks = []
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a host name, matched above
    try:
        addresses = [ipaddress.ip_address(a) for a in resolve(host)]
    except OSError:
        return f"{host} does not resolve"
    if addresses and all(any(a in net for net in networks) for a in addresses):
        return None
    return f"{host} is not among the addresses this county allows webhooks to reach"
