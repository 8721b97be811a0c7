"""What the tests need from this machine, ensured before `make test` runs pytest.

- RabbitMQ answers (AMQP_URI; default 127.0.0.1:5672);
- its management API answers (RABBITMQ_MANAGEMENT_URL; default 127.0.0.1:15672): the tests make
  a virtual host per test through it. A new machine has the plugin off: it is enabled here
  (`rabbitmq-plugins enable rabbitmq_management`) and its API waited for, up to 60 s;
- redis-server is installed: each test run starts a Redis server of its own.

What cannot be done here (RabbitMQ is not installed or not running, the plugin may not be
enabled by this user) is one line on stderr, with the command that fixes it, and exit 1.
RabbitMQ itself is never started here: that is the machine's to decide.
"""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.infra import AMQP_BASE, MANAGEMENT_URL  # noqa: E402

LOCAL = {"127.0.0.1", "localhost", "::1"}
API_WAIT = 60.0
ENABLE = "rabbitmq-plugins enable rabbitmq_management"


class NotReady(Exception):
    """What is wrong, and the command that fixes it."""


def management_api() -> tuple[str, tuple[str, str]]:
    parts = urlparse(MANAGEMENT_URL)
    return (f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}",
            (parts.username or "guest", parts.password or "guest"))


def api_answers() -> bool:
    base, auth = management_api()
    try:
        response = httpx.get(f"{base}/api/overview", auth=auth, timeout=3)
    except httpx.HTTPError:
        return False
    if response.status_code == 401:
        raise NotReady(f"RabbitMQ's management API at {base} refuses user {auth[0]}: set "
                       "RABBITMQ_MANAGEMENT_URL=http://<admin>:<password>@<host>:15672")
    return response.status_code == 200


def installed(tool: str) -> str | None:
    """The tool on the PATH, or where Debian puts it (/usr/sbin may not be on a user's PATH)."""
    return shutil.which(tool) or next(
        (str(path) for path in (Path("/usr/sbin") / tool, Path("/usr/lib/rabbitmq/bin") / tool)
         if path.exists()), None)


def check_rabbitmq() -> str:
    """Where RabbitMQ answers; raises NotReady if it does not."""
    amqp = urlparse(AMQP_BASE)
    host, port = amqp.hostname or "127.0.0.1", amqp.port or 5672
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        if host in LOCAL and installed("rabbitmq-server") is None:
            raise NotReady("RabbitMQ is not installed: `apt-get install rabbitmq-server`") from None
        raise NotReady(f"RabbitMQ does not answer at {host}:{port}: start it with "
                       "`rabbitmq-server -detached`") from None
    return host


def enable_management_plugin(host: str) -> None:
    if host not in LOCAL:
        raise NotReady(f"RabbitMQ's management API does not answer at {management_api()[0]}: "
                       f"on {host}, run `{ENABLE}`")
    tool = installed("rabbitmq-plugins")
    if tool is None:
        raise NotReady("rabbitmq-plugins (RabbitMQ's tools) is not installed: "
                       f"`apt-get install rabbitmq-server`, then `{ENABLE}`")
    print("tests: enabling RabbitMQ's management plugin (each test gets a virtual host "
          "through its API)", file=sys.stderr, flush=True)
    try:
        done = subprocess.run([tool, "enable", "rabbitmq_management"], capture_output=True,
                              text=True, timeout=120)
        said = first_words(done.stderr + done.stdout) if done.returncode != 0 else None
    except subprocess.TimeoutExpired:
        said = "it did not finish within 120 s"
    if said is not None:
        raise NotReady(f"could not enable RabbitMQ's management plugin ({said}): "
                       f"run `sudo {ENABLE}`")
    deadline = time.monotonic() + API_WAIT
    while not api_answers():
        if time.monotonic() > deadline:
            raise NotReady(f"RabbitMQ's management plugin is on but its API did not answer at "
                           f"{management_api()[0]} within {API_WAIT:.0f} s: see "
                           "`rabbitmq-diagnostics listeners`")
        time.sleep(0.5)


def first_words(output: str) -> str:
    """The first line of a tool's output that says something, without a log line's time and
    level, cut short: RabbitMQ's tools can print pages of Erlang terms."""
    for line in output.splitlines():
        said = re.sub(r"^[\d:.]+ \[\w+\] ", "", line.strip())
        if said:
            return said if len(said) <= 120 else said[:119] + "…"
    return "no reason given"


def check_redis_server() -> None:
    if shutil.which("redis-server") is None:
        raise NotReady("redis-server is not installed (each test run starts its own): "
                       "`apt-get install redis-server`")


def main() -> int:
    started = time.monotonic()
    try:
        host = check_rabbitmq()
        if not api_answers():
            enable_management_plugin(host)
            print(f"tests: RabbitMQ's management API answers "
                  f"({time.monotonic() - started:.1f} s)", file=sys.stderr)
        check_redis_server()
    except NotReady as problem:
        print(f"tests: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
