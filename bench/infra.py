"""The bench's own corner of RabbitMQ and Redis, the department broker accounts it makes, and
what it records about the machine: versions, load, and CPU time per process."""
from __future__ import annotations

import glob
import os
import platform
import secrets
import subprocess
import sys
import time
from collections.abc import Container, Iterator
from importlib import metadata
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, urlparse

import httpx
import redis

from tests.support.infra import AMQP_BASE, MANAGEMENT_URL, BrokerAdmin, amqp_uri_for, redis_url_for

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Broker:
    """Virtual hosts and department accounts through the management API (as the tests make
    theirs), all removed again at the end of the run."""

    def __init__(self):
        self.admin = BrokerAdmin.from_env()
        self.vhosts: list[str] = []
        self.users: list[str] = []

    def create_vhost(self, purpose: str) -> str:
        name = f"guabang-bench-{purpose}-{secrets.token_hex(3)}"
        quoted = quote(name, safe="")
        auth = self.admin.auth
        httpx.put(self.admin._url(f"vhosts/{quoted}"), auth=auth, timeout=10).raise_for_status()
        httpx.put(self.admin._url(f"permissions/{quoted}/{self.admin.user}"), auth=auth,
                  timeout=10, json={"configure": ".*", "write": ".*", "read": ".*"}
                  ).raise_for_status()
        self.vhosts.append(name)
        return name

    def amqp_uri(self, vhost: str) -> str:
        return amqp_uri_for(vhost)

    def add_department(self, vhost: str, department: str) -> str:
        """`guabang broker add-department`, as the county operator runs it; its password."""
        guabang = Path(sys.executable).with_name("guabang")
        command = ([str(guabang)] if guabang.exists()
                   else [sys.executable, "-m", "services.cli"])
        env = {**os.environ, "AMQP_URI": amqp_uri_for(vhost),
               "RABBITMQ_MANAGEMENT_URL": MANAGEMENT_URL}
        done = subprocess.run([*command, "broker", "add-department", department], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"guabang broker add-department {department} failed: "
                               f"{done.stderr.strip()}")
        self.users.append(f"dept-{department}")
        return done.stdout.strip()

    def account_uri(self, vhost: str, account: str, password: str) -> str:
        parts = urlparse(AMQP_BASE)
        host = parts.hostname or "127.0.0.1"
        return (f"{parts.scheme}://{quote(account, safe='')}:{quote(password, safe='')}@"
                f"{host}:{parts.port or 5672}/{quote(vhost, safe='')}")

    def overview(self) -> dict:
        try:
            return httpx.get(self.admin._url("overview"), auth=self.admin.auth,
                             timeout=10).json()
        except (httpx.HTTPError, ValueError):
            return {}

    def cleanup(self) -> None:
        for user in self.users:
            httpx.delete(self.admin._url(f"users/{quote(user, safe='')}"),
                         auth=self.admin.auth, timeout=10)
        for vhost in self.vhosts:
            self.admin.delete_vhost(vhost)
        self.users, self.vhosts = [], []


def fresh_redis(db: int) -> str:
    url = redis_url_for(db)
    redis.Redis.from_url(url).flushdb()
    return url


# --- processes and CPU ---------------------------------------------------------------------------

class TcpSocket(NamedTuple):
    local_port: int
    remote_port: int
    listening: bool
    inode: str  # as a descriptor's link in /proc/<pid>/fd reads: "socket:[12345]"


def tcp_sockets() -> list[TcpSocket]:
    """Every TCP socket on the machine, IPv4 and IPv6, from /proc/net/tcp*."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            found.append(TcpSocket(local_port=int(fields[1].rsplit(":", 1)[1], 16),
                                   remote_port=int(fields[2].rsplit(":", 1)[1], 16),
                                   listening=fields[3] == "0A",
                                   inode=f"socket:[{fields[9]}]"))
    return found


def socket_owners(inodes: Container[str]) -> Iterator[tuple[str, int]]:
    """(inode, process id) for each open descriptor, in any process, of one of `inodes`."""
    if not inodes:
        return
    for fd in glob.glob("/proc/[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target in inodes:
            yield target, int(fd.split("/")[2])


def pid_listening_on(port: int) -> int | None:
    """The process with a listening TCP socket on `port` (the broker, Redis), found in /proc."""
    inodes = {s.inode for s in tcp_sockets() if s.listening and s.local_port == port}
    return next((pid for _, pid in socket_owners(inodes)), None)


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


class CpuMeter:
    """CPU seconds used by each named process, and by the whole machine, over an interval."""

    def __init__(self, pids: dict[str, int]):
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.start()

    def start(self) -> None:
        self.started = time.monotonic()
        self.before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.machine_before = machine_busy()

    def stop(self) -> dict:
        wall = time.monotonic() - self.started
        used = {}
        for name, pid in self.pids.items():
            after, before = cpu_seconds(pid), self.before.get(name)
            if after is not None and before is not None:
                used[name] = round(after - before, 3)
        busy_after, total_after = machine_busy()
        busy = busy_after - self.machine_before[0]
        total = total_after - self.machine_before[1]
        return {"wall_s": round(wall, 3), "cpu_s": used,
                "machine_busy_fraction": round(busy / total, 3) if total else None,
                "machine_busy_cores": round(busy / wall, 3) if wall else None}


def other_guabang_processes() -> int:
    """`guabang run` processes on the machine: other people's, as the bench counts them only
    before its own start and after they stopped."""
    count = 0
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            command = Path(path).read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"services.cli run" in command or b"guabang run" in command:
            count += 1
    return count


def load_snapshot() -> dict:
    one, five, fifteen = os.getloadavg()
    return {"loadavg": [round(one, 2), round(five, 2), round(fifteen, 2)],
            "other_guabang_processes": other_guabang_processes(),
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def machine_facts(broker: Broker, redis_url: str) -> dict:
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return None

    def version(package):
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    try:
        redis_version = redis.Redis.from_url(redis_url).info("server").get("redis_version")
    except redis.RedisError:
        redis_version = None
    overview = broker.overview()
    meminfo = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()
    cpu_model = next((line.split(":", 1)[1].strip()
                      for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), None)
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_kib": int(meminfo[1]) if len(meminfo) > 1 else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
        "rabbitmq": overview.get("rabbitmq_version"),
        "erlang": overview.get("erlang_version"),
        "redis": redis_version,
        "packages": {name: version(name) for name in
                     ("nameko", "eventlet", "kombu", "amqp", "redis", "pydantic", "werkzeug",
                      "httpx", "matplotlib")},
    }


# --- what a path asked of the broker and of Redis ----------------------------------------------

STATS_SETTLE = 5.5  # the management API refreshes its message counts every 5 s


def broker_and_redis_counts(broker: Broker, vhost: str, redis_url: str) -> dict:
    """Messages through the vhost so far (the management API's counts), and Redis commands
    the server has run (all clients of the server: other people's too)."""
    stats = {}
    try:
        body = httpx.get(broker.admin._url(f"vhosts/{quote(vhost, safe='')}"),
                         auth=broker.admin.auth, timeout=10).json()
        stats = body.get("message_stats") or {}
    except (httpx.HTTPError, ValueError):
        pass
    client = redis.Redis.from_url(redis_url)
    commands = {}
    try:
        total = client.info("stats").get("total_commands_processed")
        for name, values in client.info("commandstats").items():
            commands[name.removeprefix("cmdstat_")] = values.get("calls", 0)
    except redis.RedisError:
        total = None
    return {"broker": {name: stats.get(name, 0) for name in
                       ("publish", "deliver_get", "ack", "confirm", "redeliver",
                        "return_unroutable")},
            "redis_commands": total, "redis_by_command": commands}


def per_commitment(before: dict, after: dict, commitments: int) -> dict:
    if not commitments:
        return {}
    broker = {name: round((after["broker"][name] - before["broker"][name]) / commitments, 2)
              for name in after["broker"]}
    redis_total = None
    if after["redis_commands"] is not None and before["redis_commands"] is not None:
        redis_total = round((after["redis_commands"] - before["redis_commands"])
                            / commitments, 1)
    by_command = {name: calls - before["redis_by_command"].get(name, 0)
                  for name, calls in after["redis_by_command"].items()}
    top = sorted(by_command.items(), key=lambda item: -item[1])[:12]
    return {"commitments": commitments,
            "broker_messages": broker,
            "redis_commands": redis_total,
            "redis_top_commands": {name: round(calls / commitments, 2) for name, calls in top
                                   if calls > 0},
            "note": "broker counts are this vhost's; Redis counts are the whole server's, "
                    "so they include other clients of it"}
