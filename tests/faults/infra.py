"""The fault suite's own RabbitMQ node and Redis server, on free ports under one temp dir.

Never the machine's shared ones (127.0.0.1:5672 and :6379): other tests and engineers use
those at the same time, and this suite kills and restarts what it runs. Both keep their data
in the temp dir, so a restart on the same dir brings back what a real restart would: durable
queues and persistent messages (the node's mnesia dir), every acknowledged write (Redis AOF
with `appendfsync always`).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
from kombu import Connection

from tests.support.redis_server import RedisServer
from tests.support.system import free_port, wait_until

# Debian and Ubuntu put a wrapper on the PATH that, run as root, re-runs the script as the
# `rabbitmq` user with that user's HOME (so it could not write our temp dir nor use our
# cookie). The scripts it wraps run as whoever calls them; use those when they are there.
UNWRAPPED = Path("/usr/lib/rabbitmq/bin")


def rabbit_tool(name: str) -> str:
    direct = UNWRAPPED / name
    if direct.exists():
        return str(direct)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed: the fault suite runs its own RabbitMQ node")
    return found


def kill_group(process: subprocess.Popen | None) -> None:
    """SIGKILL a process we started in its own session, with everything it spawned."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


class PrivateRabbit:
    """A second RabbitMQ node on this machine, with the management plugin (which `guabang
    broker add-department` needs), on free ports, its mnesia and logs under the temp dir."""

    def __init__(self, base: Path):
        self.dir = base / "rabbitmq"
        self.dir.mkdir()
        self.node = f"guabang-faults-{secrets.token_hex(4)}@localhost"
        self.amqp_port = free_port()
        # Chosen, not left to the default (AMQP port + 20000): that may be anyone's port,
        # the shared node's distribution port included.
        self.dist_port = free_port()
        self.management_port = free_port()
        self.process: subprocess.Popen | None = None
        self._write_files()

    def _write_files(self) -> None:
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            f"management.tcp.ip = 127.0.0.1\n"
            f"management.tcp.port = {self.management_port}\n")
        (self.dir / "enabled_plugins").write_text("[rabbitmq_management].\n")
        # An empty env file, so the machine's /etc/rabbitmq/rabbitmq-env.conf (its NODENAME,
        # say) does not reach this node.
        (self.dir / "rabbitmq-env.conf").write_text("")
        # A HOME of its own with a cookie of its own: the node and our CLI calls agree on it,
        # and nothing is written to the real ~/.erlang.cookie.
        home = self.dir / "home"
        home.mkdir()
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o400)

    def env(self) -> dict[str, str]:
        here = self.dir
        return {
            **os.environ,
            "HOME": str(here / "home"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(here / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(here / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(here / "advanced.config"),  # none
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(here / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(here / "mnesia"),
            "RABBITMQ_LOG_BASE": str(here / "log"),
            "RABBITMQ_PID_FILE": str(here / "rabbitmq.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def management_url(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.management_port}"

    def start(self, timeout: float = 120.0) -> None:
        with open(self.dir / "server.log", "ab") as log:
            self.process = subprocess.Popen([rabbit_tool("rabbitmq-server")], env=self.env(),
                                            cwd=self.dir, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_until(self._ready, timeout, 0.25, f"RabbitMQ node {self.node}")

    def _ready(self) -> bool:
        """AMQP answers and so does the management API (ping answers before either does)."""
        if self.process.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited:\n{self.log_tail()}")
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                connection.ensure_connection(max_retries=1)
            overview = httpx.get(f"http://127.0.0.1:{self.management_port}/api/overview",
                                 auth=("guest", "guest"), timeout=2)
            return overview.status_code == 200
        except Exception:  # not up yet: refused, reset, timed out, half-booted
            return False

    def kill(self) -> None:
        """A crash of the whole node: SIGKILL to its process group, no clean shutdown."""
        kill_group(self.process)

    def restart(self) -> None:
        self.kill()
        self.start()

    def queue_depth(self, name: str) -> int | None:
        try:
            with Connection(self.amqp_uri) as connection:
                _, depth, _ = connection.default_channel.queue_declare(name, passive=True)
                return depth
        except Exception:  # the queue does not exist (or the node is away): no depth to give
            return None

    def log_tail(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


class PrivateInfra:
    """Both, in one temp dir; `close` kills them and removes the dir, whatever happened."""

    def __init__(self, keep: bool = False):
        self.base = Path(tempfile.mkdtemp(prefix="guabang-faults-"))
        self.keep = keep
        self.redis = RedisServer(self.base / "redis", durable=True)
        self.rabbit = PrivateRabbit(self.base)

    def start(self) -> PrivateInfra:
        self.redis.start()
        self.rabbit.start()
        return self

    def close(self) -> None:
        for server in (self.rabbit, self.redis):
            try:
                server.kill()
            except Exception:  # keep cleaning up the other one
                pass
        if not self.keep:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PrivateInfra:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


def _demo() -> None:  # pragma: no cover - by hand: python -m tests.faults.infra
    started = time.monotonic()
    with PrivateInfra() as infra:
        print(f"up in {time.monotonic() - started:.1f}s: {infra.rabbit.amqp_uri} "
              f"{infra.redis.url} {infra.rabbit.management_url}")
        again = time.monotonic()
        infra.rabbit.restart()
        print(f"RabbitMQ restarted in {time.monotonic() - again:.1f}s")


if __name__ == "__main__":  # pragma: no cover
    _demo()
