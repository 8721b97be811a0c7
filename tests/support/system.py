"""The whole system started as a user starts it: each service its own `guabang run` process."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlparse

import httpx

from tests.support.infra import BrokerAdmin

SERVICES = ("assignment", "resources", "notifications", "gateway")
SECRETS_KEY = "kQk2Y0l4dG9yeS1mb3ItdGVzdHMtb25seS0xMjM0NTY="  # a Fernet key, for tests only
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ServiceProcess:
    """One service process, its output kept in a file so a failing test can show it."""

    def __init__(self, command: list[str], env: dict, name: str):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=f"guabang-{name}-", suffix=".log",
                                               delete=False)
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")


class System:
    """Guabang against one vhost and one Redis database, driven over HTTP only."""

    def __init__(self, amqp_uri: str, redis_url: str, admin_token: str = "test-admin-token",
                 extra_env: dict | None = None):
        self.port = free_port()
        self.admin_token = admin_token
        self.env = {
            **os.environ,
            "AMQP_URI": amqp_uri,
            "REDIS_URL": redis_url,
            "GUABANG_ADMIN_TOKEN": admin_token,
            "GUABANG_HTTP_PORT": str(self.port),
            "GUABANG_HTTP_HOST": "127.0.0.1",
            "GUABANG_HANDLER_RETRY_DELAYS": "0.2,0.5",
            "GUABANG_SECRETS_KEY": SECRETS_KEY,
            "GUABANG_WEBHOOK_RETRY_SCHEDULE": "0.5,1,2",
            "GUABANG_RATE_LIMIT": "100000",  # tests of the limit itself set their own
            **(extra_env or {}),
        }
        self.processes: dict[str, ServiceProcess] = {}
        self.base_url = f"http://127.0.0.1:{self.port}"

    def start(self, *names: str) -> System:
        for name in names or SERVICES:
            command = [sys.executable, "-m", "services.cli", "run", name]
            self.processes[name] = ServiceProcess(command, self.env, name)
        return self

    def start_replica(self, name: str) -> str:
        """Another process of a service, consuming from the same queues as the first."""
        replica = f"{name}#{sum(1 for n in self.processes if n.split('#')[0] == name) + 1}"
        command = [sys.executable, "-m", "services.cli", "run", name]
        self.processes[replica] = ServiceProcess(command, self.env, replica)
        return replica

    def stop(self, *names: str, sig: int = signal.SIGTERM) -> None:
        for name in names or list(self.processes):
            process = self.processes.pop(name, None)
            if process is not None:
                process.stop(sig)

    def logs(self) -> str:
        return "\n".join(f"--- {name} ---\n{p.output()[-4000:]}"
                         for name, p in self.processes.items())

    def client(self, key: str | None = None, timeout: float = 10.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.admin_token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def wait_healthy(self, timeout: float = 30.0, expect: tuple[str, ...] = ()) -> dict:
        """Wait until /health names every service in `expect` (default: all) as ok."""
        expected = expect or ("assignment", "resources", "notifications")

        def healthy():
            try:
                body = httpx.get(f"{self.base_url}/health", timeout=3).json()
            except (httpx.HTTPError, ValueError):
                return None
            services = body.get("services", {})
            return body if all(services.get(s) == "ok" for s in expected) else None

        try:
            return wait_until(healthy, timeout, 0.2, "the system to be healthy")
        except AssertionError:
            raise AssertionError(f"not healthy; service logs:\n{self.logs()}") from None


@contextmanager
def isolated_system(amqp_uri: str, redis_url: str, *services: str, expect: tuple[str, ...] = (),
                    env: dict | None = None) -> Iterator[System]:
    """`services` (default: all) started against `amqp_uri` and `redis_url` (a database the
    caller has emptied); healthy (as `System.wait_healthy(expect=...)` says) before it is
    handed over, stopped afterwards."""
    system = System(amqp_uri, redis_url, extra_env=env).start(*services)
    try:
        system.wait_healthy(expect=expect)
        yield system
    finally:
        system.stop()


def department_amqp_uri(system: System, department: str) -> str:
    """A department's own AMQP URI, with the broker account `guabang broker add-department`
    makes for it on the system's virtual host."""
    made = subprocess.run([sys.executable, "-m", "services.cli", "broker", "add-department",
                           department], env=system.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    broker = urlparse(system.env["AMQP_URI"])
    return (f"amqp://dept-{department}:{quote(made.stdout.strip(), safe='')}@"
            f"{broker.hostname}:{broker.port}{broker.path}")


@contextmanager
def department_account(system: System, admin: BrokerAdmin, department: str) -> Iterator[str]:
    """`department_amqp_uri` for the length of a block, the account deleted afterwards: an
    account is the broker's, not the virtual host's, so deleting the host does not remove it."""
    try:
        yield department_amqp_uri(system, department)
    finally:
        admin.delete_user(f"dept-{department}")
