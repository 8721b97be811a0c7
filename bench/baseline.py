"""The bare baseline's processes: each of its three services in its own process, started like
`guabang run` starts a service (eventlet's monkey patch, nameko's ServiceRunner, the same nameko
settings as Guabang's: JSON, PREFETCH_COUNT 20, nameko's default of 10 workers).

    python -m bench.baseline gateway|worker|notifier     (AMQP_URI, BENCH_BASELINE_PORT)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.load import Target
from tests.support.system import free_port

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("notifier", "worker", "gateway")  # consumers first, so no event finds no queue
QUEUES = ("rpc-bench_worker", "evt-bench_worker-committed--bench_notifier.on_committed")


class BaselinePath:
    def __init__(self, amqp_uri: str, villages: list[tuple[str, str]], departments):
        self.amqp_uri = amqp_uri
        self.port = free_port()
        self.villages = villages
        self.departments = departments
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, str] = {}

    def start(self, admin, vhost: str) -> None:
        """Start the three processes; return once each consumes its queue and HTTP answers."""
        env = {**os.environ, "AMQP_URI": self.amqp_uri, "BENCH_BASELINE_PORT": str(self.port)}
        for name in ORDER:
            log = tempfile.NamedTemporaryFile(prefix=f"bench-baseline-{name}-", suffix=".log",
                                              delete=False)
            self.logs[name] = log.name
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bench.baseline", name], cwd=ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"baseline {name} exited:\n{self.output()}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=2)
                if all((admin.queue(vhost, queue) or {}).get("consumers", 0) > 0
                       for queue in QUEUES):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the baseline gateway did not answer:\n{self.output()}")

    def pids(self) -> dict[str, int]:
        return {f"bare_{name}": p.pid for name, p in self.processes.items()}

    def sink_bindings(self, townships: list[str]) -> list[tuple[str, str]]:
        return [(f"bench-baseline-{code}", f"township.{code}.#") for code in townships]

    def target(self) -> Target:
        return Target("baseline", self.port, "/commit", self.departments, self.villages,
                      send_township=True, channels=("amqp",))

    def output(self) -> str:
        return "\n".join(f"--- {name} ---\n{Path(path).read_text(errors='replace')[-3000:]}"
                         for name, path in self.logs.items())

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for path in self.logs.values():
            try:
                os.unlink(path)
            except OSError:
                pass


def main(name: str) -> int:
    from services.runner import configure_logging, patch_for_nameko, run_until_signal, stop_within

    patch_for_nameko()  # as guabang run does

    from nameko.runners import ServiceRunner

    from bench.bare_services import SERVICES

    # as `guabang run` logs (INFO by default: eventlet's access line for every request too)
    configure_logging()
    config = {
        "AMQP_URI": os.environ["AMQP_URI"],
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{os.environ.get('BENCH_BASELINE_PORT', '8001')}",
        "serializer": "json",
        "PREFETCH_COUNT": 20,
    }
    runner = ServiceRunner(config)
    runner.add_service(SERVICES[name])
    run_until_signal(runner)  # a container that died is stopped like the rest
    stop_within(runner)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
