"""A redis-server of our own, on a free port, its files in a directory of its own.

The test session runs one (so that two checkouts testing at once, or a developer's `make run`,
never share a database), and the fault suite runs one it kills and restarts.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import redis

from tests.support.system import free_port, wait_until

# Linux sends the server SIGTERM when the thread that started it ends (under pytest, every
# thread is one of eventlet's in the process's one OS thread: when the run ends), so a run
# killed outright, with no teardown, leaves no server behind. setpriv is util-linux's.
DIE_WITH_PARENT = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []


class RedisServer:
    """redis-server on 127.0.0.1 and a free port. `durable`: AOF fsynced on every write, so a
    SIGKILL loses no acknowledged write and a restart on the same dir brings it all back;
    otherwise nothing is written to disk at all."""

    def __init__(self, directory: Path, durable: bool = False):
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.url_for(0)

    def url_for(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def flushed_url(self, db: int) -> str:
        """The URL of one of its databases, emptied first."""
        client = redis.Redis(port=self.port, db=db)
        try:
            client.flushdb()
        finally:
            client.close()
        return self.url_for(db)

    def start(self, timeout: float = 30.0) -> RedisServer:
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if self.durable
                       else ["--appendonly", "no"])
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--dir", str(self.dir), "--save", "", *persistence]
        with open(self.dir / "redis.log", "ab") as log:
            self.process = subprocess.Popen([*DIE_WITH_PARENT, *command], stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self._answers, timeout, 0.05, f"Redis on port {self.port}")
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited: {self.log_tail()}")
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            return client.ping()
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """A crash: SIGKILL, nothing flushed beyond what `appendfsync always` already wrote."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """A clean stop: SIGTERM to the server we started (by its pid), SIGKILL if it lingers."""
        self._signal(signal.SIGTERM, then_kill_after=10.0)

    def restart(self) -> None:
        self.kill()
        self.start()

    def _signal(self, sig: int, then_kill_after: float | None = None) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # it runs in a session of its own
        except ProcessLookupError:
            pass
        try:
            process.wait(then_kill_after or 30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)

    def log_tail(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""
