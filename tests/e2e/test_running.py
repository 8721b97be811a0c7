"""`guabang start` (what `make run` calls): every service its own process, an admin key
printed when none was set, and Ctrl-C stops them all."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.infra import amqp_uri_for
from tests.support.system import ROOT, free_port, wait_until

pytestmark = pytest.mark.e2e


def processes_with_env(marker: str) -> list[int]:
    """Pids whose environment contains `marker` (how we find the started children)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_start_runs_each_service_in_its_own_process_and_prints_the_admin_key(vhost,
                                                                              redis_server):
    port = free_port()
    marker = f"GUABANG_TEST_RUN={port}"
    env = {k: v for k, v in os.environ.items() if k != "GUABANG_ADMIN_TOKEN"}
    env.update({"AMQP_URI": amqp_uri_for(vhost), "REDIS_URL": redis_server.url_for(11),
                "GUABANG_HTTP_PORT": str(port), "GUABANG_HTTP_HOST": "127.0.0.1",
                "GUABANG_TEST_RUN": str(port)})
    starter = subprocess.Popen([sys.executable, "-m", "services.cli", "start"], env=env,
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        printed = ""
        while "export ADMIN=" not in printed:
            line = starter.stdout.readline()
            assert line, f"start exited before printing a key:\n{printed}"
            printed += line
        admin_key = re.search(r"export ADMIN=(\S+)", printed).group(1)

        def healthy():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 30, 0.2, "the started system to be healthy")
        assert len(processes_with_env(marker)) == 5  # the starter and one per service
        created = httpx.post(f"http://127.0.0.1:{port}/v1/api-keys",
                             headers={"Authorization": f"Bearer {admin_key}"},
                             json={"principal": "inspector:市督查组"}, timeout=5)
        assert created.status_code == 201

        starter.send_signal(signal.SIGINT)  # Ctrl-C
        assert starter.wait(30) == 0
        wait_until(lambda: not processes_with_env(marker), 10, what="every service to stop")
    finally:
        if starter.poll() is None:
            starter.kill()
        for pid in processes_with_env(marker):
            os.kill(pid, signal.SIGKILL)


def test_start_brings_back_a_service_that_stopped_on_its_own(vhost, redis_server):
    port = free_port()
    marker = f"GUABANG_TEST_RUN={port}"
    env = {**os.environ, "AMQP_URI": amqp_uri_for(vhost), "REDIS_URL": redis_server.url_for(11),
           "GUABANG_HTTP_PORT": str(port), "GUABANG_HTTP_HOST": "127.0.0.1",
           "GUABANG_TEST_RUN": str(port), "GUABANG_ADMIN_TOKEN": "t"}
    starter = subprocess.Popen([sys.executable, "-m", "services.cli", "start"], env=env,
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def healthy():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 30, 0.2, "the started system to be healthy")

        def resources_pids():
            found = []
            for pid in processes_with_env(marker):
                try:
                    if b"resources" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        found.append(pid)
                except OSError:
                    continue  # it just ended
            return found

        [killed] = resources_pids()
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: resources_pids() and killed not in resources_pids(), 15, 0.1,
                   "a new resources process")
        wait_until(healthy, 30, 0.3, "resources to answer again")
        assert starter.poll() is None
    finally:
        starter.send_signal(signal.SIGINT)
        starter.wait(30)
        for pid in processes_with_env(marker):
            os.kill(pid, signal.SIGKILL)
